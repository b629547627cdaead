// Package seal makes and reads the audit chain of the event store: one
// sealer at a time (a Postgres advisory lock) follows the gap-free feed and
// seals what committed since the last seal (domain/audit says how); the
// store lists the seals, proves an event, checks the stored events against
// their seals and exports a pack that an auditor checks with no database.
// Sealing never touches the append path.
package seal
