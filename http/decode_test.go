package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// decoderCase runs the decoder of one request type.
type decoderCase struct {
	name   string
	decode func([]byte) (any, error)
}

func decoderOf[T any, PT interface {
	*T
	Validator
}]() decoderCase {
	return decoderCase{reflect.TypeFor[T]().Name(), func(b []byte) (any, error) { return decodeBytes[T, PT](context.Background(), b) }}
}

// decoders has the decoder of every request type the API reads
// (TestDecodersCoverEveryRequestBody keeps it so).
var decoders = []decoderCase{
	decoderOf[loginRequest](),
	decoderOf[refreshRequest](),
	decoderOf[registerRequest](),
	decoderOf[patchEmployeeRequest](),
	decoderOf[attendanceRequest](),
	decoderOf[leaveRequest](),
	decoderOf[decideLeaveRequest](),
	decoderOf[entitlementRequest](),
	decoderOf[holidayRequest](),
	decoderOf[newLeaveTypeRequest](),
	decoderOf[changeLeaveTypeRequest](),
	decoderOf[changePasswordRequest](),
	decoderOf[resetPasswordRequest](),
	decoderOf[adjustmentRequest](),
	decoderOf[correctionRequest](),
	decoderOf[leaveBlockRequest](),
	decoderOf[eraseRequest](),
	decoderOf[approvalPolicyRequest](),
	decoderOf[delegationRequest](),
	decoderOf[holidayCalendarRequest](),
}

// FuzzDecoders feeds arbitrary bodies to every request decoder: each must
// answer with a value or a 400, never panic or anything else, and a value
// holds only text Postgres takes.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"type":"check-in"}`, `{"type":1}`, `{"start_date":"2024-02-30","end_date":"2024-03-01"}`,
		`{"start_date":"0000-01-01","end_date":"10000-01-01"}`, `{"email":"a@b.co","password":"12345678","full_name":"A","schedule":{"work_start":"25:00","workdays":[]}}`,
		`{"year":0,"entitlement_days":-1}`, `{"status":"maybe"}`, `{"a":1}{"b":2}`, `{"date":"2024-13-01","name":""}`, "{\"email\":\"\x00\"}",
		`{"entitlement_days":1e400}`, `{"code":"Study","accrual":"weekly","days_per_year":1e300}`, `{"code":null,"name":"\u0000"}`, `{"manager_id":"not-a-uuid","role":"root"}`,
		`{"start_date":"2024-12-31","end_date":"2024-12-23","reason":"x","leave_types":["annual",null,1]}`,
		`{"code":"Berlin-Mitte","name":"Berlin","calendar":"x","holiday_calendar":"Bad!"}`,
		// What Postgres refuses as text: a NUL escape, bytes that are not UTF-8.
		`{"email":"nul\u0000@example.com","password":"x"}`, `{"date":"2024-10-29","name":"\u0000"}`,
		`{"full_name":"\u0000","position":"\u0000","schedule":{"timezone":"Europe/\u0000"}}`,
		`{"start_date":"2024-12-02","end_date":"2024-12-03","reason":"\u0000"}`, "{\"reason\":\"\xff\xfe\"}",
		`{"rules":[{"leave_type":"\u0000","min_days":1e400,"steps":["manager","boss"]}]}`, `{"rules":null}`, `{"rules":[{"steps":null}]}`,
		`{"delegate_id":"x","start_date":"2024-12-02","end_date":"2024-12-01","manager_id":"\u0000"}`,
		"{\"full_name\":\"\xed\xa0\x80\"}", `{"note":"\ud800"}`, `{"refresh_token":"\\u0000"}`, "{\"\xff\":\"\\u0000\"}",
		`{"date":"2024-12-02","check_in":"2024-12-02T08:00:00Z","check_out":"0000-01-01T00:00:00Z","reason":"x"}`,
		`{"employee_id":"x","check_in":"24:00","check_out":"2024-12-02T08:00:00+25:00","reason":"\u0000"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range decoders {
			v, err := d.decode(body)
			if err != nil {
				if p, _ := problemFor(err); p.Status != 400 {
					t.Errorf("%s: decode(%q) = status %d (%v), want 400", d.name, body, p.Status, err)
				}
				continue
			}
			eachString(reflect.ValueOf(v), func(s string) {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Errorf("%s: decode(%q) holds %q, which Postgres refuses", d.name, body, s)
				}
			})
		}
	})
}

// eachString calls fn with every string that v holds.
func eachString(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.String:
		fn(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachString(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			eachString(v.Field(i), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			eachString(v.Index(i), fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			eachString(it.Key(), fn)
			eachString(it.Value(), fn)
		}
	}
}

// TestDecodersCoverEveryRequestBody: every request body of the OpenAPI
// document has its decoder in decoders, so FuzzDecoders reaches it; a file
// of employees is read by parseImport, which FuzzParseImport reaches.
func TestDecodersCoverEveryRequestBody(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/swagger/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				In     string `json:"in"`
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fuzzed := map[string]bool{}
	for _, d := range decoders {
		fuzzed[d.name] = true
	}
	bodies := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				if p.In != "body" {
					continue
				}
				bodies++
				if path == importPath && p.Schema.Ref == "" {
					continue
				}
				if name := strings.TrimPrefix(p.Schema.Ref, "#/definitions/http."); !fuzzed[name] {
					t.Errorf("%s %s reads a %s, which decoders lacks", method, path, name)
				}
			}
		}
	}
	if bodies == 0 {
		t.Error("the OpenAPI document lists no request body")
	}
}

// FuzzRequestText sends arbitrary query strings and Idempotency-Keys: a
// handler either reads only text Postgres takes or never runs, and the
// client gets a 400 naming what it refused.
func FuzzRequestText(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"type=%00", ""}, {"after=%FF%FE", ""}, {"%00=1", ""}, {"a=1&a=%00", ""}, {"stream=x%ED%A0%80", ""},
		{"token=%zz&after=%00", ""}, {"", "\xff\xfe"}, {"", "key\x00"}, {"", strings.Repeat("k", 201)}, {"limit=10", "a-key"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, key string) {
		e := echo.New()
		e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
		e.Use(checkQueryText, idempotent(nil, nil, time.Now, time.Hour))
		ran := false
		e.GET("/", func(c echo.Context) error {
			ran = true
			texts := []string{c.Request().Header.Get(headerIdempotencyKey)}
			for name, values := range c.QueryParams() {
				texts = append(append(texts, name), values...)
			}
			for _, s := range texts {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Errorf("query %q, key %q: the handler reads %q, which Postgres refuses", query, key, s)
				}
			}
			return c.NoContent(http.StatusNoContent)
		})
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = query
		req.Header.Set(headerIdempotencyKey, key)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if ran {
			return
		}
		var p Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusBadRequest || len(p.Errors) == 0 {
			t.Errorf("query %q, key %q = %d %s, want the handler to run or a 400 naming the field", query, key, rec.Code, rec.Body)
		}
	})
}

func TestDecodeNamesEachBadField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		decode func([]byte) (any, error)
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
		{"leave half day and hours", decoders[5].decode, `{"start_date":"2024-12-02","end_date":"2024-12-02","half_day":"noon","hours":-1,"employee_id":"x"}`,
			map[string]string{"half_day": `must be "am" or "pm"`, "hours": "must be more than 0", "employee_id": "must be a UUID"}},
		{"adjustment", decoderOf[adjustmentRequest]().decode, `{"leave_type":"annual","days":0,"reason":" "}`,
			map[string]string{"days": "must be between -366 and 366 days, and not zero", "reason": "required"}},
		{"adjustment without days", decoderOf[adjustmentRequest]().decode, `{"reason":"x"}`, map[string]string{"days": "required"}},
		{"decide unknown status", decoders[6].decode, `{"status":"pending"}`, map[string]string{"status": `must be "approved" or "rejected"`}},
		{"block end before start", decoderOf[leaveBlockRequest]().decode, `{"start_date":"2024-12-31","end_date":"2024-12-23","reason":"closing"}`,
			map[string]string{"end_date": "must not be before start_date"}},
		{"block without dates", decoderOf[leaveBlockRequest]().decode, `{"reason":"closing","leave_types":["annual"]}`,
			map[string]string{"start_date": "required", "end_date": "required"}},
		{"block types not a list", decoderOf[leaveBlockRequest]().decode, `{"leave_types":"annual"}`, map[string]string{"leave_types": "must be a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.decode([]byte(tt.body))
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
		_, err := decoders[4].decode([]byte(body))
		if p, _ := problemFor(err); p.Status != 400 {
			t.Errorf("decode(%q) = status %d (%v), want 400", body, p.Status, err)
		}
	}
}
