package eventstore

// QueuedAppends is how many appends wait for a batch in s.
func QueuedAppends(s *Store) int {
	s.batches.mu.Lock()
	defer s.batches.mu.Unlock()
	return len(s.batches.queue)
}

// MaxFlushes is how many batches a store writes at once.
const MaxFlushes = maxFlushes

// MarshalObject writes data, a JSON object, as the codec writes the plain
// data of a sealed event.
func MarshalObject(data []byte) ([]byte, error) {
	fields, err := splitObject(nil, data)
	if err != nil {
		return nil, err
	}
	return appendObject(nil, fields)
}
