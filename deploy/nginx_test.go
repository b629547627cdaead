// Package deploy holds the configuration of what runs in front of the
// servers; its test reads that configuration, which no test here can run.
package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// block returns the body of the first "<head> {" block of conf, braces
// balanced, or "" when there is none.
func block(conf, head string) string {
	i := strings.Index(conf, head+" {")
	if i < 0 {
		return ""
	}
	depth := 0
	for j := i + len(head); j < len(conf); j++ {
		switch conf[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return conf[i+len(head)+2 : j]
			}
		}
	}
	return ""
}

// TestProxyKeepsTokensAndMetricsInside: the proxy answers /metrics itself
// with a 404, and neither its access log nor its error log writes the query
// strings of /ws/, where access tokens travel.
func TestProxyKeepsTokensAndMetricsInside(t *testing.T) {
	b, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := regexp.MustCompile(`(?m)#.*$`).ReplaceAllString(string(b), "")

	if metrics := block(conf, "location /metrics"); !regexp.MustCompile(`\breturn\s+404\s*;`).MatchString(metrics) {
		t.Errorf("location /metrics = %q, want a prefix location that returns 404", metrics)
	}

	ws := block(conf, "location /ws/")
	if ws == "" {
		t.Fatal("no location /ws/")
	}
	m := regexp.MustCompile(`\baccess_log\s+\S+\s+(\w+)\s*;`).FindStringSubmatch(ws)
	if m == nil {
		t.Fatalf("location /ws/ has no access_log with a format of its own: the default format logs the query string")
	}
	format := regexp.MustCompile(`(?s)\blog_format\s+` + m[1] + `\s+(.*?);`).FindStringSubmatch(conf)
	if format == nil {
		t.Fatalf("log_format %s is not defined", m[1])
	}
	for _, v := range []string{"$request ", "$request\"", "$request'", "$request_uri", "$args", "$query_string", "$arg_", "$is_args"} {
		if strings.Contains(format[1], v) {
			t.Errorf("log_format %s logs %s, which holds the query string", m[1], strings.Trim(v, " \"'"))
		}
	}
	// nginx's error lines quote the request line, query string included.
	if !regexp.MustCompile(`\berror_log\s+\S+\s+(crit|alert|emerg)\s*;`).MatchString(ws) {
		t.Error("location /ws/ logs errors at level error, whose lines quote the query string")
	}
}

// TestProxyLetsImportsThrough: a file of employees passes the proxy at the
// size the server takes (8 MiB) and for as long as the server works on it
// (15 minutes), where other requests stop at 1 MiB and 75 s.
func TestProxyLetsImportsThrough(t *testing.T) {
	b, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	imports := block(string(b), "location ~ ^/api/employees/import/?$")
	if imports == "" {
		t.Fatal("no location for /api/employees/import")
	}
	for _, want := range []string{`client_max_body_size\s+8m\s*;`, `proxy_read_timeout\s+1[6-9]m\s*;`, `proxy_pass\s+http://api\s*;`} {
		if !regexp.MustCompile(want).MatchString(imports) {
			t.Errorf("the import location lacks %s", want)
		}
	}
}
