package eventstore

// QueuedAppends is how many appends wait for a batch in s.
func QueuedAppends(s *Store) int {
	s.batches.mu.Lock()
	defer s.batches.mu.Unlock()
	return len(s.batches.queue)
}

// MaxFlushes is how many batches a store writes at once.
const MaxFlushes = maxFlushes
