// Package projections runs the pipeline from the event store to the read
// models, the sagas and the pushed notifications: the bus adapter of package
// bus (Redis Streams through Watermill, or the in-process bus), the relay of
// package relay that publishes the gap-free feed to it, and the consumer
// runtime that applies the folds of package readmodel and runs the process
// managers of package saga, with their checkpoints and versions. It also
// rebuilds and verifies read models, and reports the pipeline's progress
// (Monitor).
package projections
