package http

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeAny runs the decoder of one request type and reports whether the
// outcome is acceptable: a value, or a 400 problem.
type decoderCase struct {
	name   string
	decode func([]byte) error
}

var decoders = []decoderCase{
	{"login", func(b []byte) error { _, err := decodeBytes[loginRequest](context.Background(), b); return err }},
	{"refresh", func(b []byte) error { _, err := decodeBytes[refreshRequest](context.Background(), b); return err }},
	{"register", func(b []byte) error { _, err := decodeBytes[registerRequest](context.Background(), b); return err }},
	{"patch employee", func(b []byte) error { _, err := decodeBytes[patchEmployeeRequest](context.Background(), b); return err }},
	{"attendance", func(b []byte) error { _, err := decodeBytes[attendanceRequest](context.Background(), b); return err }},
	{"leave", func(b []byte) error { _, err := decodeBytes[leaveRequest](context.Background(), b); return err }},
	{"decide leave", func(b []byte) error { _, err := decodeBytes[decideLeaveRequest](context.Background(), b); return err }},
	{"entitlement", func(b []byte) error { _, err := decodeBytes[entitlementRequest](context.Background(), b); return err }},
	{"holiday", func(b []byte) error { _, err := decodeBytes[holidayRequest](context.Background(), b); return err }},
}

// FuzzDecoders feeds arbitrary bodies to every request decoder: each must
// answer with a value or a 400, never panic or anything else.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"type":"check-in"}`, `{"type":1}`, `{"start_date":"2024-02-30","end_date":"2024-03-01"}`,
		`{"start_date":"0000-01-01","end_date":"10000-01-01"}`, `{"email":"a@b.co","password":"12345678","full_name":"A","schedule":{"work_start":"25:00","workdays":[]}}`,
		`{"year":0,"entitlement_days":-1}`, `{"status":"maybe"}`, `{"a":1}{"b":2}`, `{"date":"2024-13-01","name":""}`, "{\"email\":\"\x00\"}",
		`{"entitlement_days":1e400}`, `{"manager_id":"not-a-uuid","role":"root"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range decoders {
			err := d.decode(body)
			if err == nil {
				continue
			}
			if p, _ := problemFor(err); p.Status != 400 {
				t.Errorf("%s: decode(%q) = status %d (%v), want 400", d.name, body, p.Status, err)
			}
		}
	})
}

func TestDecodeNamesEachBadField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
		want   map[string]string // nil: decodes
	}{
		{"leave ok", decoders[5].decode, `{"start_date":"2024-12-01","end_date":"2024-12-05"}`, nil},
		{"leave impossible date", decoders[5].decode, `{"start_date":"2024-02-30","end_date":"2024-03-01"}`,
			map[string]string{"start_date": "must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31"}},
		{"leave years out of range", decoders[5].decode, `{"start_date":"0000-01-01","end_date":"10000-01-01"}`, map[string]string{
			"start_date": "must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31",
			"end_date":   "must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31",
		}},
		{"leave end before start", decoders[5].decode, `{"start_date":"2024-12-05","end_date":"2024-12-01"}`,
			map[string]string{"end_date": "must not be before start_date"}},
		{"leave wrong type", decoders[5].decode, `{"start_date":20241201}`, map[string]string{"start_date": "must be a string"}},
		{"attendance unknown type", decoders[4].decode, `{"type":"lunch"}`, map[string]string{"type": `must be "check-in" or "check-out"`}},
		{"register", decoders[2].decode, `{"email":"","password":"short","full_name":"","role":"root","manager_id":"x","hire_date":"2024-02-30","schedule":{"work_start":"8am"}}`,
			map[string]string{
				"email": "required", "password": "must be at least 8 characters", "full_name": "required",
				"role": "role must be one of employee, manager, admin, auditor", "manager_id": "must be a UUID",
				"hire_date": "must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31", "schedule.work_start": "must be a time of day HH:MM between 00:00 and 23:59",
			}},
		{"entitlement", decoders[7].decode, `{"year":10000,"entitlement_days":400}`,
			map[string]string{"year": "must be between 1 and 9999", "entitlement_days": "must be between 0 and 366 days"}},
		{"decide unknown status", decoders[6].decode, `{"status":"pending"}`, map[string]string{"status": `must be "approved" or "rejected"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.decode([]byte(tt.body))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("decode(%s) = %v, want no error", tt.body, err)
				}
				return
			}
			var fe *fieldError
			if !errors.As(err, &fe) {
				t.Fatalf("decode(%s) = %v, want a field error", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, fe.fields); diff != "" {
				t.Errorf("decode(%s) fields (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestDecodeRefusesMalformedBodies(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `   `, `{`, `{"type":"check-in"} {"type":"check-out"}`, `[1,2]`, `"check-in"`, `nul`} {
		err := decoders[4].decode([]byte(body))
		if p, _ := problemFor(err); p.Status != 400 {
			t.Errorf("decode(%q) = status %d (%v), want 400", body, p.Status, err)
		}
	}
}
