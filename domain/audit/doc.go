// Package audit is the proof that the event store was not changed behind its
// back: the canonical form and hash of a stored event, the Merkle tree of a
// seal's events, the chain of seals, and the check of seals against events,
// which the store's verify and an auditor's offline check of a pack share.
// It does no IO; docs/audit.md defines every byte it hashes.
package audit
