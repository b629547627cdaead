package http_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"

	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/config"
)

// The server is an http.Handler; every path also answers with a trailing slash.
func ExampleNew() {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	srv := apihttp.New(apihttp.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	for _, path := range []string{"/healthz", "/healthz/", "/api/auth/me/"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Content-Type"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// /healthz 200 application/json {"status":"ok"}
	// /healthz/ 200 application/json {"status":"ok"}
	// /api/auth/me/ 401 application/problem+json {"type":"about:blank","title":"Unauthorized","status":401,"detail":"missing or invalid access token"}
}

// An employee's id follows from their email, whatever its case, so a
// repeated registration names the same streams.
func ExampleEmployeeID() {
	fmt.Println(apihttp.EmployeeID("Ayse@Example.com") == apihttp.EmployeeID("ayse@example.com"))
	// Output: true
}
