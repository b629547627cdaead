package http

// personal is a personal field on the wire: null once erased.
func personal(s string, erased bool) *string {
	if erased {
		return nil
	}
	return &s
}

// text is a personal field in a file (CSV, XLSX, PDF): empty once erased.
func text(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
