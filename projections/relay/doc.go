// Package relay publishes the event store's gap-free feed to the bus: the
// events table is the outbox, and the relay, active in one process at a time,
// tails it from its checkpoint, sends each event to its category's topic and
// notifications to every process, and after the bus lost its streams publishes
// again from the consumers' checkpoints. A backlog, and every event while its
// process runs the only pipeline on the bus, it hands to that process's
// consumers directly instead.
package relay
