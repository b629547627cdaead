// Package readmodel holds the read models: for each, the tables it keeps,
// the fold of its stream category's events into them (run on the live
// tables in a transaction, or in memory by a rebuild) and the queries that
// read them (Queries, which implements app/query's ReadModels). The pipeline
// in package projections runs the folds; the API reads through app.
package readmodel
