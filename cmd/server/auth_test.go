package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/acme/employee-tracking/internal/testenv"
)

// loginFrom logs in as a client at addr: the server takes the client's
// address from X-Forwarded-For when the peer is a proxy on a loopback or
// private address, as the tests are.
func (a *app) loginFrom(addr, email, pw string) response {
	a.t.Helper()
	return a.call("POST", "/api/auth/login/", "", map[string]string{"email": email, "password": pw}, "X-Forwarded-For", addr)
}

// tokenPair is the answer of login and refresh.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (a *app) session(email, pw string) tokenPair {
	a.t.Helper()
	var p tokenPair
	a.must(http.StatusOK, "POST", "/api/auth/login/", "", map[string]string{"email": email, "password": pw}, &p)
	return p
}

// TestLoginAnswersUnknownEmailsAsKnown: wrong passwords for an existing
// email and for one nobody has get the same answers, failure after failure
// (status, body, Retry-After), in a comparable time.
func TestLoginAnswersUnknownEmailsAsKnown(t *testing.T) {
	t.Parallel()
	// The real cost, so that a comparison skipped for unknown emails shows.
	a := startApp(t, map[string]string{"BCRYPT_COST": "10"})
	emp := a.register(a.admin(), "employee", nil)
	unknown := "nobody-" + testenv.RandomHex(4) + "@example.com"

	var knownTimes, unknownTimes []time.Duration
	for i := range 12 {
		// Each attempt from an address of its own: only the accounts' limits apply.
		start := time.Now()
		known := a.loginFrom(fmt.Sprintf("198.51.100.%d", i+1), emp.Email, "wrong password")
		knownTimes = append(knownTimes, time.Since(start))
		start = time.Now()
		other := a.loginFrom(fmt.Sprintf("203.0.113.%d", i+1), unknown, "wrong password")
		unknownTimes = append(unknownTimes, time.Since(start))

		if known.status != other.status || string(known.body) != string(other.body) ||
			(known.header.Get("Retry-After") == "") != (other.header.Get("Retry-After") == "") {
			t.Fatalf("failure %d: known email %s (Retry-After %q), unknown email %s (Retry-After %q), want the same answer",
				i+1, known, known.header.Get("Retry-After"), other, other.header.Get("Retry-After"))
		}
		want := http.StatusUnauthorized
		if i >= 10 {
			want = http.StatusTooManyRequests // the account refuses addresses it does not know
		}
		if known.status != want {
			t.Fatalf("failure %d = %s, want %d", i+1, known, want)
		}
	}
	// The password is compared for unknown emails too (the first 10 attempts).
	// The fastest of each is what the work costs, whatever else the machine
	// runs meanwhile; without the comparison an unknown email answers over ten
	// times faster.
	known, other := slices.Min(knownTimes[:10]), slices.Min(unknownTimes[:10])
	t.Logf("fastest wrong password: known email %v, unknown email %v", known, other)
	if other < known/3 || other > known*3 {
		t.Errorf("fastest wrong password: unknown email %v, known email %v, want within a factor of 3", other, known)
	}
}

// TestLoginRefusesHostileEmails: an email that cannot be one is a 400 naming
// the field, before it reaches the database or the throttle.
func TestLoginRefusesHostileEmails(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	for _, body := range []string{
		`{"email":"nul\u0000@example.com","password":"whatever1"}`,
		`{"email":"` + strings.Repeat("a", 300) + `@example.com","password":"whatever1"}`,
		`{"email":"Name <a@example.com>","password":"whatever1"}`,
	} {
		if p := decodeProblem(t, a.call("POST", "/api/auth/login/", "", body)); p.Status != http.StatusBadRequest || p.Errors["email"] == "" {
			t.Errorf("login %q = %+v, want 400 naming email", body, p)
		}
	}
}

// TestStrangerCannotLockOutUser: failures from addresses that never logged
// in to an account lock it against such addresses only; its owner, the
// admin here, still logs in from where they did before.
func TestStrangerCannotLockOutUser(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	home := "192.0.2.10"
	if r := a.loginFrom(home, adminEmail, adminPassword); r.status != http.StatusOK {
		t.Fatalf("admin login from %s = %s, want 200", home, r)
	}
	refused := 0
	for i := range 30 {
		r := a.loginFrom(fmt.Sprintf("198.51.100.%d", i+1), adminEmail, "guess "+strconv.Itoa(i))
		switch r.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("guess %d = %s, want 401 or 429", i+1, r)
		}
	}
	if refused < 15 {
		t.Fatalf("%d of 30 guesses from strangers refused with 429, want the account locked against them", refused)
	}
	if r := a.loginFrom(home, adminEmail, adminPassword); r.status != http.StatusOK {
		t.Errorf("admin login from %s after the guesses = %s, want 200", home, r)
	}
	// A new address is a stranger until the lock expires, the right password too.
	if r := a.loginFrom("192.0.2.99", adminEmail, adminPassword); r.status != http.StatusTooManyRequests {
		t.Errorf("admin login from a new address = %s, want 429", r)
	}
}

// TestLoginSprayFromOneAddressIsSlowed: one address trying many accounts,
// known and unknown, is refused after a few failures, for longer and longer;
// other addresses are not affected.
func TestLoginSprayFromOneAddressIsSlowed(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	var emails []string
	for range 5 {
		emails = append(emails, a.register(admin, "employee", nil).Email)
	}
	for range 25 {
		emails = append(emails, "nobody-"+testenv.RandomHex(4)+"@example.com")
	}
	const spray = "198.51.100.77"
	failed, refused := 0, 0
	for _, email := range emails {
		r := a.loginFrom(spray, email, "Winter2026!")
		switch r.status {
		case http.StatusUnauthorized:
			failed++
		case http.StatusTooManyRequests:
			if r.header.Get("Retry-After") == "" {
				t.Fatalf("429 without Retry-After: %s", r)
			}
			refused++
		default:
			t.Fatalf("login of %s = %s, want 401 or 429", email, r)
		}
	}
	// Five failures are free; the wait after them starts at a second, which a
	// loaded machine may let pass once.
	if failed > 6 || refused < 24 {
		t.Fatalf("spraying 30 accounts from one address: %d answered 401, %d answered 429; want at most 6 and at least 24", failed, refused)
	}

	// The wait grows: after it passes, one more guess, then a longer wait.
	r := a.loginFrom(spray, emails[0], "Spring2026!")
	first, _ := strconv.Atoi(r.header.Get("Retry-After"))
	time.Sleep(time.Duration(first) * time.Second)
	if r = a.loginFrom(spray, emails[0], "Summer2026!"); r.status != http.StatusUnauthorized {
		t.Fatalf("guess after waiting %ds = %s, want 401", first, r)
	}
	r = a.loginFrom(spray, emails[0], "Autumn2026!")
	if next, _ := strconv.Atoi(r.header.Get("Retry-After")); r.status != http.StatusTooManyRequests || next <= first {
		t.Fatalf("guess right after = %s (Retry-After %d), want 429 with a wait above %d", r, next, first)
	}
	if r := a.loginFrom("198.51.100.78", adminEmail, adminPassword); r.status != http.StatusOK {
		t.Errorf("login from another address = %s, want 200", r)
	}
}

// TestConcurrentLogins: guesses sent at once from one address do not all
// pass the throttle before the first fails (only so many are compared at
// once), while as many people logging in at once from one address, as behind
// a NAT or a benchmark's client, all get in.
func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	const guesses = 100
	statuses := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() { statuses <- a.loginFrom("198.51.100.200", adminEmail, "guess "+strconv.Itoa(i)).status })
	}
	wg.Wait()
	close(statuses)
	failed := 0
	for s := range statuses {
		if s == http.StatusUnauthorized {
			failed++
		} else if s != http.StatusTooManyRequests {
			t.Fatalf("guess answered %d, want 401 or 429", s)
		}
	}
	// At most 16 at once, and the 5 free failures let a few more in as the
	// first ones end.
	t.Logf("%d of %d guesses sent at once had their password compared", failed, guesses)
	if failed > 21 {
		t.Errorf("%d of %d concurrent guesses had their password compared, want at most 21", failed, guesses)
	}

	var emails []string
	for range 16 {
		emails = append(emails, a.register(admin, "employee", nil).Email)
	}
	results := make(chan response, len(emails))
	for _, email := range emails {
		wg.Go(func() { results <- a.loginFrom("198.51.100.201", email, password) })
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.status != http.StatusOK {
			t.Errorf("one of 16 logins at once from one address = %s, want 200", r)
		}
	}
}

// TestRefreshTokensRotate: a refresh token buys one new pair; presenting it
// again is refused and ends its session, whose newer tokens then fail too.
// Other sessions of the user live on.
func TestRefreshTokensRotate(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	emp := a.register(a.admin(), "employee", nil)
	other := a.session(emp.Email, password)
	first := a.session(emp.Email, password)

	var second tokenPair
	a.must(http.StatusOK, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": first.RefreshToken}, &second)
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh answered the same refresh token")
	}
	a.must(http.StatusOK, "GET", "/api/auth/me/", second.AccessToken, nil, nil)

	reused := a.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": first.RefreshToken}, nil)
	if !strings.Contains(string(reused.body), "refresh token") {
		t.Errorf("reused refresh token: %s, want a problem naming the refresh token", reused.body)
	}
	a.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": second.RefreshToken}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", second.AccessToken, nil, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", first.AccessToken, nil, nil)

	a.must(http.StatusOK, "GET", "/api/auth/me/", other.AccessToken, nil, nil)
	a.must(http.StatusOK, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": other.RefreshToken}, nil)
}

// TestLogout ends one session: its tokens stop working, the user's other
// sessions do not.
func TestLogout(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	emp := a.register(a.admin(), "employee", nil)
	leaving := a.session(emp.Email, password)
	staying := a.session(emp.Email, password)

	a.must(http.StatusNoContent, "POST", "/api/auth/logout/", "", map[string]string{"refresh_token": leaving.RefreshToken}, nil)
	a.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": leaving.RefreshToken}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", leaving.AccessToken, nil, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", staying.AccessToken, nil, nil)
	// Again is harmless; a token that is none is refused; a missing one named.
	a.must(http.StatusNoContent, "POST", "/api/auth/logout/", "", map[string]string{"refresh_token": leaving.RefreshToken}, nil)
	a.must(http.StatusUnauthorized, "POST", "/api/auth/logout/", "", map[string]string{"refresh_token": "a.b.c"}, nil)
	a.must(http.StatusUnauthorized, "POST", "/api/auth/logout/", "", map[string]string{"refresh_token": staying.AccessToken}, nil)
	if p := decodeProblem(t, a.call("POST", "/api/auth/logout/", "", `{}`)); p.Status != http.StatusBadRequest || p.Errors["refresh_token"] == "" {
		t.Errorf("logout without a token = %+v, want 400 naming refresh_token", p)
	}
}

// expectClosed waits for the server to close conn.
func expectClosed(t *testing.T, conn *websocket.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // a notification that came first
		}
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("%s: read = %v, want the session closed with 1008", what, err)
		}
		return
	}
}

// passwordEvents are the employee.password_changed events of an employee's
// history, which must hold no secret.
func passwordEvents(t *testing.T, a *app, admin user, id string, secrets ...string) []map[string]any {
	t.Helper()
	r := a.must(http.StatusOK, "GET", "/api/employees/"+id+"/history/", admin.token, nil, nil)
	for _, s := range append(secrets, "$2a$") {
		if strings.Contains(string(r.body), s) {
			t.Errorf("history holds %q: %s", s, r.body)
		}
	}
	var h struct {
		Items []struct {
			Type     string         `json:"type"`
			Data     map[string]any `json:"data"`
			Metadata map[string]any `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range h.Items {
		if ev.Type == "employee.password_changed" {
			out = append(out, map[string]any{"reset": ev.Data["reset"], "actor": ev.Metadata["actor"]})
		}
	}
	return out
}

// TestPasswordChangeEndsSessions: the caller changes their password with the
// current one; every session of theirs ends, WebSockets included, and the
// change is an event without the password.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	other := a.session(emp.Email, password)
	conn := a.dial(t, "token="+other.AccessToken, nil)

	const newPassword = "a brand new passphrase"
	bad := []struct {
		name  string
		body  any
		field string
	}{
		{"wrong current", map[string]string{"current_password": "not it at all", "new_password": newPassword}, "current_password"},
		{"short new", map[string]string{"current_password": password, "new_password": "short"}, "new_password"},
		{"long new", map[string]string{"current_password": password, "new_password": strings.Repeat("x", 73)}, "new_password"},
		{"missing current", map[string]string{"new_password": newPassword}, "current_password"},
		{"NUL in current", `{"current_password":"a\u0000b","new_password":"` + newPassword + `"}`, "current_password"},
	}
	for _, tt := range bad {
		p := decodeProblem(t, a.call("POST", "/api/auth/password/", emp.token, tt.body))
		if p.Status != http.StatusBadRequest || p.Errors[tt.field] == "" {
			t.Errorf("%s: %+v, want 400 naming %s", tt.name, p, tt.field)
		}
	}
	a.must(http.StatusUnauthorized, "POST", "/api/auth/password/", "", map[string]string{"current_password": password, "new_password": newPassword}, nil)

	a.must(http.StatusNoContent, "POST", "/api/auth/password/", emp.token, map[string]string{"current_password": password, "new_password": newPassword}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)
	a.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": other.RefreshToken}, nil)
	expectClosed(t, conn, "the WebSocket of another session")
	a.must(http.StatusUnauthorized, "POST", "/api/auth/login/", "", map[string]string{"email": emp.Email, "password": password}, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", a.login(emp.Email, newPassword), nil, nil)

	got := passwordEvents(t, a, admin, emp.ID, password, newPassword)
	if want := []map[string]any{{"reset": false, "actor": emp.ID}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("password events = %v, want %v", got, want)
	}
}

// TestPasswordResetByAdmin: only an admin sets someone's password; the
// employee's sessions end and the reset is an event naming the admin.
func TestPasswordResetByAdmin(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	conn := a.dial(t, "token="+emp.token, nil)
	const newPassword = "set by the admin today"
	body := map[string]string{"new_password": newPassword}

	a.must(http.StatusForbidden, "POST", "/api/employees/"+emp.ID+"/password/", mgr.token, body, nil)
	a.must(http.StatusForbidden, "POST", "/api/employees/"+emp.ID+"/password/", emp.token, body, nil)
	a.must(http.StatusNotFound, "POST", "/api/employees/"+uuid.NewString()+"/password/", admin.token, body, nil)
	if p := decodeProblem(t, a.call("POST", "/api/employees/"+emp.ID+"/password/", admin.token, map[string]string{"new_password": "short"})); p.Status != http.StatusBadRequest || p.Errors["new_password"] == "" {
		t.Errorf("short password = %+v, want 400 naming new_password", p)
	}

	a.must(http.StatusNoContent, "POST", "/api/employees/"+emp.ID+"/password/", admin.token, body, nil)
	expectClosed(t, conn, "the employee's WebSocket")
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", a.login(emp.Email, newPassword), nil, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", admin.token, nil, nil) // the admin's own session lives

	got := passwordEvents(t, a, admin, emp.ID, newPassword)
	if want := []map[string]any{{"reset": true, "actor": admin.ID}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("password events = %v, want %v", got, want)
	}
}

// TestDeactivationClosesWebSockets: a deactivated employee's open WebSocket
// is closed, and their sessions stay ended after a reactivation.
func TestDeactivationClosesWebSockets(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	conn := a.dial(t, "token="+emp.token, nil)
	a.must(http.StatusOK, "PATCH", "/api/employees/"+emp.ID+"/", admin.token, map[string]any{"active": false}, nil)
	expectClosed(t, conn, "the deactivated employee's WebSocket")
	a.must(http.StatusOK, "PATCH", "/api/employees/"+emp.ID+"/", admin.token, map[string]any{"active": true}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", a.login(emp.Email, password), nil, nil)
}

// TestSessionsEndOnEveryServer: two servers on one database; a password
// changed through one closes the WebSocket open on the other and refuses
// its tokens there.
func TestSessionsEndOnEveryServer(t *testing.T) {
	t.Parallel()
	secret := "test-secret-" + testenv.RandomHex(8)
	a := startApp(t, map[string]string{"JWT_SECRET": secret})
	b := startApp(t, map[string]string{"DATABASE_URL": a.dbURL, "JWT_SECRET": secret})
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	onB := b.session(emp.Email, password)
	conn := b.dial(t, "token="+onB.AccessToken, nil)
	b.must(http.StatusOK, "GET", "/api/auth/me/", onB.AccessToken, nil, nil)

	start := time.Now()
	a.must(http.StatusNoContent, "POST", "/api/employees/"+emp.ID+"/password/", admin.token, map[string]string{"new_password": "changed on server a"}, nil)
	expectClosed(t, conn, "the WebSocket on the other server")
	t.Logf("the other server closed the WebSocket %v after the reset", time.Since(start))
	eventually(t, "the other server refuses the access token", func() bool {
		return b.call("GET", "/api/auth/me/", onB.AccessToken, nil).status == http.StatusUnauthorized
	})
	b.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": onB.RefreshToken}, nil)
}
