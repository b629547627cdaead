package http_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"

	apihttp "github.com/acme/employee-tracking/http"
)

// The server is an http.Handler; every path also answers with a trailing slash.
func ExampleNew() {
	srv := apihttp.New(apihttp.Deps{Logger: slog.New(slog.DiscardHandler)})
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
