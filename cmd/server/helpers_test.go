package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password"
	password      = "correct horse battery"
)

// app is one running instance of the program, on its own database.
type app struct {
	t     *testing.T
	base  string
	dbURL string
	stop  func() error // cancels run and waits for it to return
}

// startApp runs the program with a fresh database and the in-process bus
// unless env says otherwise, and waits until it is ready.
func startApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL":   testdb.URL(t),
		"REDIS_URL":      "memory",
		"REDIS_PREFIX":   "test." + testenv.RandomHex(6) + ".",
		"HTTP_ADDR":      "127.0.0.1:" + testenv.FreePort(t),
		"JWT_SECRET":     "test-secret-" + testenv.RandomHex(8),
		"ADMIN_EMAIL":    adminEmail,
		"ADMIN_PASSWORD": adminPassword,
		"BCRYPT_COST":    "4",
		"LOG_LEVEL":      "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testenv.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return vars[k] }, logs, nil) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("run did not stop within 30s of cancel")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping: %v, want nil", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	a := &app{t: t, base: "http://" + vars["HTTP_ADDR"], dbURL: vars["DATABASE_URL"], stop: stop}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("run stopped before it was ready: %v\n%s", err, logs.String())
		default:
		}
		res, err := http.Get(a.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 30s (last: %v)\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// call sends a request; body is sent as is when it is a string, bytes or a
// reader, as JSON otherwise.
// headers come in name, value pairs.
func (a *app) call(method, path, token string, body any, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader: // of unknown length: sent chunked
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// must calls and fails the test unless the status is want; it decodes the
// body into out when out is not nil.
func (a *app) must(want int, method, path, token string, body any, out any, headers ...string) response {
	a.t.Helper()
	r := a.call(method, path, token, body, headers...)
	if r.status != want {
		a.t.Fatalf("%s %s = %s, want %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
	token string
}

func (a *app) login(email, pw string) string {
	a.t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	a.must(http.StatusOK, "POST", "/api/auth/login/", "", map[string]string{"email": email, "password": pw}, &out)
	return out.AccessToken
}

func (a *app) admin() user {
	a.t.Helper()
	tok := a.login(adminEmail, adminPassword)
	var me user
	a.must(http.StatusOK, "GET", "/api/auth/me/", tok, nil, &me)
	me.token = tok
	return me
}

// register creates a user through creator and logs them in. fields adds to
// or overrides the request body.
func (a *app) register(creator user, role string, fields map[string]any) user {
	a.t.Helper()
	body := map[string]any{
		"email": role + "-" + testenv.RandomHex(4) + "@example.com", "password": password,
		"full_name": "Test " + role, "role": role, "hire_date": "2024-01-01",
	}
	for k, v := range fields {
		body[k] = v
	}
	var u user
	a.must(http.StatusCreated, "POST", "/api/employees/", creator.token, body, &u)
	u.token = a.login(u.Email, password)
	return u
}

// holidayToday declares today, in the zone of u's schedule, a company
// holiday: a check-in of u today is then never late and tells no one, so
// that what a test counts does not depend on the hour it runs at.
func (a *app) holidayToday(admin, u user) {
	a.t.Helper()
	var e struct {
		Schedule struct {
			Timezone string `json:"timezone"`
		} `json:"schedule"`
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+u.ID, admin.token, nil, &e)
	zone, err := time.LoadLocation(e.Schedule.Timezone)
	if err != nil {
		a.t.Fatal(err)
	}
	today := time.Now().In(zone).Format(time.DateOnly)
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": today, "name": "Test day"}, nil)
}

// eventually retries check until it reports true or 10 seconds pass: read
// models follow the event store a moment later.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	eventuallyWithin(t, 10*time.Second, what, check)
}

// eventuallyWithin is eventually with a patience of its own, for what takes
// more hops through the pipeline, or waits on a due-time query.
func eventuallyWithin(t *testing.T, patience time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s", what, patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// problem is an RFC 7807 answer.
type problem struct {
	Status int               `json:"status"`
	Title  string            `json:"title"`
	Errors map[string]string `json:"errors"`
}

func decodeProblem(t *testing.T, r response) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (%s)", ct, r)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if p.Status != r.status {
		t.Fatalf("problem status = %d, want the response's %d", p.Status, r.status)
	}
	return p
}
