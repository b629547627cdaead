package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/validation"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/recent"
)

func TestLoginLimitWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit    loginLimit
		failures int
		want     time.Duration
	}{
		{addressLimit, 0, 0}, {addressLimit, 4, 0}, {addressLimit, 5, time.Second}, {addressLimit, 6, 2 * time.Second},
		{addressLimit, 14, 512 * time.Second}, {addressLimit, 15, 15 * time.Minute}, {addressLimit, 1000, 15 * time.Minute},
		{accountLimit, 9, 0}, {accountLimit, 10, 15 * time.Minute}, {accountLimit, 11, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := tt.limit.wait(tt.failures); got != tt.want {
			t.Errorf("%+v.wait(%d) = %v, want %v", tt.limit, tt.failures, got, tt.want)
		}
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ ip, want string }{
		{"203.0.113.7", "address:203.0.113.7"},
		{"::ffff:203.0.113.7", "address:203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "address:2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "address:2001:db8:1:2::/64"},
		{"not an address\x00", "address:unknown"},
	}
	for _, tt := range tests {
		if got := addressKey(tt.ip); got != tt.want {
			t.Errorf("addressKey(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)
	tok := tokens{secret: []byte("k"), accessTTL: 15 * time.Minute, refreshTTL: time.Hour, now: func() time.Time { return now }}
	user := employee.Employee{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleEmployee}
	session, refresh := uuid.NewString(), uuid.NewString()
	pair, err := tok.issue(user, session, refresh)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tok.parse(pair.AccessToken, tokenAccess); err != nil || got.userID != user.EmployeeID || got.sessionID != session {
		t.Errorf("parse(access) = %+v, %v, want user %q of session %q", got, err, user.EmployeeID, session)
	}
	if got, err := tok.parse(pair.RefreshToken, tokenRefresh); err != nil || got.sessionID != session || got.id != refresh {
		t.Errorf("parse(refresh) = %+v, %v, want session %q, id %q", got, err, session, refresh)
	}

	other := tok
	other.secret = []byte("other")
	later := tok
	later.now = func() time.Time { return now.Add(16 * time.Minute) }
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, tokenClaims{Kind: tokenAccess,
		RegisteredClaims: jwt.RegisteredClaims{Subject: user.EmployeeID, ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	// A token of before sessions: right key, no session.
	sessionless, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{Kind: tokenAccess,
		RegisteredClaims: jwt.RegisteredClaims{Subject: user.EmployeeID, ID: uuid.NewString(), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}).
		SignedString(tok.secret)
	refused := []struct {
		name string
		tok  tokens
		raw  string
		kind string
	}{
		{"refresh token used as access token", tok, pair.RefreshToken, tokenAccess},
		{"access token used as refresh token", tok, pair.AccessToken, tokenRefresh},
		{"other key", other, pair.AccessToken, tokenAccess},
		{"expired", later, pair.AccessToken, tokenAccess},
		{"alg none", tok, none, tokenAccess},
		{"garbage", tok, "a.b.c", tokenAccess},
		{"no session", tok, sessionless, tokenAccess},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.tok.parse(tt.raw, tt.kind); !errors.Is(err, errUnauthorized) {
				t.Errorf("parse = %v, want errUnauthorized", err)
			}
		})
	}
}

func TestProblemFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{badRequest("x", map[string]string{"a": "b"}), 400},
		{&validation.Error{Fields: map[string]string{"email": "required"}}, 400},
		{employee.ErrSelfManaged, 400},
		{leave.ErrEndBeforeStart, 400},
		{errUnauthorized, 401},
		{errBadCredentials, 401},
		{errForbidden, 403},
		{errNotFound, 404},
		{leave.ErrRequestNotFound, 404},
		{attendance.ErrAlreadyCheckedIn, 409},
		{attendance.ErrNotCheckedIn, 409},
		{leave.ErrNotPending, 409},
		{command.ErrEmailTaken, 409},
		{errKeyReused, 409},
		// A conflict that outlasts the store's retries, as the commands report it.
		{fmt.Errorf("update: %w", errkind.Wrap(errkind.Conflict, "the resource was changed concurrently; retry",
			&eventstore.ConflictError{Stream: "s", Expected: 1, Actual: 2})), 409},
		{&leave.InsufficientBalanceError{Requested: 1, Available: 0}, 422},
		{&leave.OverlapError{With: "x"}, 422},
		{leave.ErrNoWorkdays, 422},
		{&lockedError{retryAfterSeconds: 30}, 429},
		{errors.New("connection reset by peer"), 500},
	}
	for _, tt := range tests {
		p, internal := problemFor(tt.err)
		if p.Status != tt.want {
			t.Errorf("problemFor(%v).Status = %d, want %d", tt.err, p.Status, tt.want)
		}
		if internal != (tt.want == 500) {
			t.Errorf("problemFor(%v) internal = %v, want %v", tt.err, internal, tt.want == 500)
		}
		if tt.want == 500 && p.Detail == tt.err.Error() {
			t.Errorf("problemFor(%v) leaks the internal message", tt.err)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"no origin: not a browser", nil, "", true},
		{"same origin by default", nil, "http://api.example.com", true},
		{"other origin by default", nil, "http://evil.example.com", false},
		{"listed origin", []string{"https://ui.example.com"}, "https://ui.example.com", true},
		{"unlisted origin", []string{"https://ui.example.com"}, "http://api.example.com", false},
		{"wildcard", []string{"*"}, "https://anything.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://api.example.com/ws/notifications", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if got := checkOrigin(tt.allowed)(r); got != tt.want {
				t.Errorf("checkOrigin(%v)(Origin %q) = %v, want %v", tt.allowed, tt.origin, got, tt.want)
			}
		})
	}
}

// versionedSessions says every session lives and that the user's stream is
// at version.
type versionedSessions struct{ version *int64 }

func (s versionedSessions) check(context.Context, string, string) (int64, error) {
	return *s.version, nil
}

// countingStore is oneUserStore with a count of the loads.
type countingStore struct {
	oneUserStore
	loads *int
}

func (s countingStore) Load(ctx context.Context, stream string) ([]eventstore.Event, error) {
	*s.loads++
	return s.oneUserStore.Load(ctx, stream)
}

func TestPrincipalKeptWhileItsStreamStays(t *testing.T) {
	t.Parallel()
	version, loads := int64(1), 0
	tok := tokens{secret: []byte("k"), accessTTL: time.Hour, refreshTTL: time.Hour, now: time.Now, sessions: versionedSessions{&version}}
	user := employee.Registered{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleEmployee}
	employees := query.NewEmployeeHandler(countingStore{oneUserStore{e: user}, &loads})
	people := recent.New[knownEmployee](time.Millisecond)
	pair, err := tok.issue(employee.Replay([]any{user}), uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	load := func() {
		t.Helper()
		p, err := loadPrincipal(t.Context(), employees, tok, people, pair.AccessToken)
		if err != nil || p.EmployeeID != user.EmployeeID {
			t.Fatalf("loadPrincipal = %q, %v; want %q", p.EmployeeID, err, user.EmployeeID)
		}
	}
	load()
	time.Sleep(2 * time.Millisecond) // past the cache's time
	load()
	if loads != 1 {
		t.Errorf("the stream at the same version: %d loads, want 1", loads)
	}
	version = 2
	load()
	if loads != 2 {
		t.Errorf("the stream moved: %d loads, want 2", loads)
	}
}

func TestVerifiedTokensKeepTheirKindAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)
	tok := tokens{secret: []byte("k"), accessTTL: 15 * time.Minute, refreshTTL: time.Hour, now: func() time.Time { return now },
		verified: recent.New[verifiedToken](time.Hour)}
	user := employee.Employee{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleEmployee}
	session := uuid.NewString()
	pair, err := tok.issue(user, session, uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // verified, then kept
		if got, err := tok.parse(pair.AccessToken, tokenAccess); err != nil || got.userID != user.EmployeeID || got.sessionID != session {
			t.Errorf("parse(access) = %+v, %v, want user %q of session %q", got, err, user.EmployeeID, session)
		}
	}
	if _, err := tok.parse(pair.AccessToken, tokenRefresh); !errors.Is(err, errUnauthorized) {
		t.Errorf("a kept access token used as refresh token: parse = %v, want errUnauthorized", err)
	}
	now = now.Add(15 * time.Minute)
	if _, err := tok.parse(pair.AccessToken, tokenAccess); !errors.Is(err, errUnauthorized) {
		t.Errorf("a kept access token at its expiry: parse = %v, want errUnauthorized", err)
	}
}

func BenchmarkParseAccessToken(b *testing.B) {
	for _, kept := range []bool{false, true} {
		b.Run(fmt.Sprintf("kept=%t", kept), func(b *testing.B) {
			tok := tokens{secret: []byte("k"), accessTTL: 15 * time.Minute, refreshTTL: time.Hour, now: time.Now}
			if kept {
				tok.verified = recent.New[verifiedToken](recent.TTL)
			}
			pair, err := tok.issue(employee.Employee{EmployeeID: uuid.NewString(), Role: employee.RoleEmployee}, uuid.NewString(), uuid.NewString())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tok.parse(pair.AccessToken, tokenAccess); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
