// Package poison marks the failures of a read model's fold or a saga's
// reaction that retrying cannot fix (an event the domain refuses, a change to
// something never recorded): the pipeline parks such an event instead of
// retrying it, and moves on.
package poison
