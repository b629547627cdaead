package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestSecurityHeaders: every answer tells a browser not to sniff its type,
// not to frame it and not to send its URL on; every answer of the API, the
// ones carrying tokens first, tells caches not to store it. The Swagger UI
// still runs its inline scripts.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	login := a.must(http.StatusOK, "POST", "/api/auth/login/", "", map[string]string{"email": adminEmail, "password": adminPassword}, &pair)
	answers := map[string]response{
		"login":             login,
		"refresh":           a.must(http.StatusOK, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": pair.RefreshToken}, nil),
		"me":                a.must(http.StatusOK, "GET", "/api/auth/me/", pair.AccessToken, nil, nil),
		"refused login":     a.must(http.StatusUnauthorized, "POST", "/api/auth/login/", "", map[string]string{"email": adminEmail, "password": "wrong-password"}, nil),
		"bad input":         a.must(http.StatusBadRequest, "GET", "/api/events/?type=%00", pair.AccessToken, nil, nil),
		"unknown route":     a.must(http.StatusNotFound, "GET", "/api/nothing", pair.AccessToken, nil, nil),
		"no token":          a.must(http.StatusUnauthorized, "GET", "/api/employees/", "", nil, nil),
		"too large":         a.must(http.StatusRequestEntityTooLarge, "POST", "/api/auth/login/", "", strings.Repeat(" ", 2<<20), nil),
		"websocket refused": a.must(http.StatusUnauthorized, "GET", "/ws/notifications", "", nil, nil),
		"healthz":           a.must(http.StatusOK, "GET", "/healthz", "", nil, nil),
		"readyz":            a.must(http.StatusOK, "GET", "/readyz", "", nil, nil),
		"metrics":           a.must(http.StatusOK, "GET", "/metrics", "", nil, nil),
		"swagger ui":        a.must(http.StatusOK, "GET", "/swagger/index.html", "", nil, nil),
		"swagger doc.json":  a.must(http.StatusOK, "GET", "/swagger/doc.json", "", nil, nil),
	}
	for name, r := range answers {
		for header, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "frame-ancestors 'none'",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := r.header.Get(header); got != want {
				t.Errorf("%s: %s = %q, want %q", name, header, got, want)
			}
		}
		if got := r.header.Get("Cache-Control"); !strings.HasPrefix(name, "swagger") && got != "no-store" { // the UI may be cached
			t.Errorf("%s: Cache-Control = %q, want no-store", name, got)
		}
	}
	// The UI is a page of inline scripts: a policy that restricts scripts would break it.
	ui := answers["swagger ui"]
	if ct := ui.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(ui.body), "<script") {
		t.Errorf("/swagger/index.html = %q %.200s, want the UI's page", ct, ui.body)
	}
}
