// Package bus is the adapter of Redis Streams and Watermill that carries the
// relay's events to the projectors, the sagas and the live notification hubs:
// topics per stream category and partition, the consumer groups' reader with
// its batches, claims and trimming, the instances and their heartbeats that
// name the group members, the envelope of an event message, the fan-out
// subscription, and Watermill's GoChannel as the in-process bus.
package bus
