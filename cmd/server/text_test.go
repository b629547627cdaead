package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// openAPI is what the tests read of the OpenAPI document: what a client
// sends, and the failures each endpoint documents.
type openAPI struct {
	Paths map[string]map[string]struct {
		Parameters []struct {
			In     string `json:"in"`
			Name   string `json:"name"`
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"parameters"`
		Responses map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"responses"`
	} `json:"paths"`
	Definitions map[string]schema `json:"definitions"`
}

type schema struct {
	Type       string            `json:"type"`
	Ref        string            `json:"$ref"`
	Properties map[string]schema `json:"properties"`
	Items      *schema           `json:"items"`
	Example    json.RawMessage   `json:"example"`
}

func readOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile("../../docs/swagger/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// stringFields lists the dotted path of every string in a request schema.
func (doc openAPI) stringFields(s schema, prefix string) []string {
	if s.Ref != "" {
		s = doc.Definitions[strings.TrimPrefix(s.Ref, "#/definitions/")]
	}
	switch s.Type {
	case "string":
		return []string{prefix}
	case "object":
		var out []string
		for name, p := range s.Properties {
			out = append(out, doc.stringFields(p, strings.TrimPrefix(prefix+"."+name, "."))...)
		}
		sort.Strings(out)
		return out
	case "array":
		return doc.stringFields(*s.Items, prefix+"[0]")
	}
	return nil
}

// bodyWith is a JSON object holding raw, a JSON string, at the dotted path
// field ("schedule.work_start", "names[0]").
func bodyWith(field, raw string) string {
	name, rest, nested := strings.Cut(field, ".")
	value := raw
	if nested {
		value = bodyWith(rest, raw)
	}
	if list, ok := strings.CutSuffix(name, "[0]"); ok {
		name, value = list, "["+value+"]"
	}
	return `{"` + name + `":` + value + `}`
}

// badTexts are strings Postgres refuses in a text column: a NUL, and bytes
// that are not UTF-8 (encoding/json would quietly turn them into U+FFFD).
var badTexts = []struct{ name, json, query, header string }{
	{"NUL", `"nul\u0000@example.com"`, "%00", ""},
	{"invalid UTF-8", "\"\xff\xfe\"", "%FF%FE", "\xff\xfe"},
}

// TestTextPostgresRefusesIsABadRequest sends a NUL and invalid UTF-8 in every
// string field of every request body, every query parameter and every header
// the OpenAPI document lists: each is a 400 that names the field, never the
// 500 of a database that refuses the text.
func TestTextPostgresRefusesIsABadRequest(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	var pending leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-03"}, &pending)
	var correction correctionJSON
	a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", emp.token,
		map[string]string{"date": "2024-12-02", "check_in": "2024-12-02T06:00:00Z", "check_out": "2024-12-02T14:00:00Z", "reason": "forgot"}, &correction)
	pathValues := strings.NewReplacer("{employee_id}", emp.ID, "{date}", "2024-10-29",
		"/employees/{id}", "/employees/"+emp.ID, "/leave-management/{id}", "/leave-management/"+pending.ID,
		"/corrections/{id}", "/corrections/"+correction.ID,
		"{id}", "00000000-0000-0000-0000-000000000001")

	doc := readOpenAPI(t)
	var bodies, queries, headers int
	for path, ops := range doc.Paths {
		for method, op := range ops {
			url := pathValues.Replace(path)
			for _, p := range op.Parameters {
				for _, bad := range badTexts {
					switch {
					case p.In == "body":
						for _, field := range doc.stringFields(schema{Ref: p.Schema.Ref}, "") {
							bodies++
							a.refusedNaming(t, field, method, url, admin.token, bodyWith(field, bad.json))
						}
					case p.In == "query":
						queries++
						a.refusedNaming(t, p.Name, method, url+"?"+p.Name+"="+bad.query, admin.token, nil)
					case p.In == "header" && bad.header != "":
						headers++
						a.refusedNaming(t, p.Name, method, url, admin.token, `{}`, p.Name, bad.header)
					}
				}
			}
		}
	}
	// The document must have been read as meant: a test that sends nothing passes.
	if bodies < 30 || queries < 40 || headers < 5 {
		t.Errorf("sent %d bodies, %d query strings, %d headers: the OpenAPI document lists more", bodies, queries, headers)
	}
}

// refusedNaming fails the test unless the request is a 400 problem naming field.
func (a *app) refusedNaming(t *testing.T, field, method, path, token string, body any, headers ...string) {
	t.Helper()
	r := a.call(strings.ToUpper(method), path, token, body, headers...)
	if r.status != http.StatusBadRequest || !bytes.HasPrefix(r.body, []byte("{")) {
		t.Errorf("%s %s %q: %s, want 400 naming %s", method, path, body, r, field)
		return
	}
	if p := decodeProblem(t, r); p.Errors[field] == "" {
		t.Errorf("%s %s %q: errors = %v, want %s named", method, path, body, p.Errors, field)
	}
}

// TestRequestIDsFromClientsAreShortAndPrintable: X-Request-Id and
// X-Correlation-ID go into the metadata of every event a request causes; a
// client's header is kept only when it is a short printable id, so a header
// never enlarges an event.
func TestRequestIDsFromClientsAreShortAndPrintable(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	valid := "req-1.a_b:" + strings.Repeat("x", 118) // 128 characters
	huge := strings.Repeat("r", 500<<10)
	tests := []struct {
		name                     string
		requestID, correlationID string
		keep                     bool
	}{
		{"printable", valid, "corr-" + valid[:100], true},
		{"500 KB", huge, huge, false},
		{"129 characters", valid + "x", valid + "x", false},
		{"not UTF-8", "\xff\xfe", "id\xff", false},
		{"spaces and quotes", `a b"c`, `<script>`, false},
	}
	for i, tt := range tests {
		day := time.Date(2025, 3, 3+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly) // Monday to Friday
		r := a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": day, "end_date": day}, nil,
			"X-Request-Id", tt.requestID, "X-Correlation-ID", tt.correlationID)
		id := r.header.Get("X-Request-Id")
		if tt.keep && id != tt.requestID || !tt.keep && (id == "" || id == tt.requestID || len(id) > 128) {
			t.Errorf("%s: X-Request-Id answered %.40q, want the client's: %v", tt.name, id, tt.keep)
		}
		wantCorrelation := id
		if tt.keep {
			wantCorrelation = tt.correlationID
		}
		// The request, and the manager's notification that follows it.
		eventually(t, tt.name+": the manager is notified", func() bool {
			var n int
			if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type IN ('leave.requested', 'notification.raised')
				AND metadata->>'correlation_id' = $1`, wantCorrelation).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 2
		})
	}
	var largest int
	if err := pool.QueryRow(context.Background(), `SELECT max(octet_length(metadata::text)) FROM events`).Scan(&largest); err != nil {
		t.Fatal(err)
	}
	if largest > 1024 {
		t.Errorf("largest event metadata = %d bytes, want a client's headers to leave it small", largest)
	}
}
