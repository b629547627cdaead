package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/employee-tracking/internal/testenv"
)

// loginFrom logs in as a client at addr: the server takes the client's
// address from X-Forwarded-For when the peer is a proxy on a loopback or
// private address, as the tests are.
func (a *app) loginFrom(addr, email, pw string) response {
	a.t.Helper()
	return a.call("POST", "/api/auth/login/", "", map[string]string{"email": email, "password": pw}, "X-Forwarded-For", addr)
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
	known, other := median(knownTimes[:10]), median(unknownTimes[:10])
	t.Logf("median time of a wrong password: known email %v, unknown email %v", known, other)
	if other < known/2 || other > known*2 {
		t.Errorf("median time: unknown email %v, known email %v, want within a factor of 2", other, known)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
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
