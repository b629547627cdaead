package http

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/acme/employee-tracking/app/query"
)

// MonthlyRowJSON is one employee's month.
type MonthlyRowJSON struct {
	EmployeeID      string  `json:"employee_id"`
	FullName        *string `json:"full_name"` // null when erased
	DaysWorked      int     `json:"days_worked"`
	WorkedMinutes   int     `json:"worked_minutes"`
	WorkedHours     float64 `json:"worked_hours"`
	ExpectedMinutes int     `json:"expected_minutes"`
	LateDays        int     `json:"late_days"`
	LateMinutes     int     `json:"late_minutes"`
	LeaveDays       int     `json:"leave_days"`
	AbsentDays      int     `json:"absent_days"`
	OvertimeMinutes int     `json:"overtime_minutes"`
	// ReviewDays are the days whose forgotten check-out the system closed.
	ReviewDays int `json:"review_days"`
	// CorrectedDays are the days an approved correction changed.
	CorrectedDays int `json:"corrected_days"`
	// Erased: the employee's personal data was erased.
	Erased bool `json:"erased,omitempty"`
}

// MonthlyReportJSON is the monthly work report.
type MonthlyReportJSON struct {
	Year         int              `json:"year" example:"2024"`
	Month        int              `json:"month" example:"12"`
	AsOfPosition string           `json:"as_of_position"`
	Employees    []MonthlyRowJSON `json:"employees"`
}

func monthlyReportJSON(r query.MonthlyReport) MonthlyReportJSON {
	out := MonthlyReportJSON{Year: r.Year, Month: r.Month, AsOfPosition: r.AsOfPosition, Employees: make([]MonthlyRowJSON, len(r.Employees))}
	for i, e := range r.Employees {
		out.Employees[i] = MonthlyRowJSON{
			EmployeeID: e.EmployeeID, FullName: personal(e.FullName, e.Erased), DaysWorked: e.DaysWorked,
			WorkedMinutes: e.WorkedMinutes, WorkedHours: e.WorkedHours, ExpectedMinutes: e.ExpectedMinutes, LateDays: e.LateDays,
			LateMinutes: e.LateMinutes, LeaveDays: e.LeaveDays, AbsentDays: e.AbsentDays, OvertimeMinutes: e.OvertimeMinutes,
			ReviewDays: e.ReviewDays, CorrectedDays: e.CorrectedDays, Erased: e.Erased,
		}
	}
	return out
}

var reportFormats = []string{"json", "csv", "xlsx", "pdf"}

// handleMonthlyWork godoc
//
//	@Summary		Monthly working hours
//	@Description	Managers see their reports, employees themselves, admins and auditors everyone. The csv, xlsx and pdf formats carry the same rows as JSON.
//	@Tags			reports
//	@Produce		json
//	@Produce		text/csv
//	@Produce		application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
//	@Produce		application/pdf
//	@Security		BearerAuth
//	@Param			year		query		int		false	"year (this year by default)"
//	@Param			month		query		int		false	"month 1-12 (this month by default)"
//	@Param			employee_id	query		string	false	"one employee"
//	@Param			format		query		string	false	"output format"	Enums(json, csv, xlsx, pdf)	default(json)
//	@Success		200			{object}	MonthlyReportJSON
//	@Failure		400			{object}	ReportQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/reports/monthly-work/ [get]
func handleMonthlyWork(employees query.EmployeeHandler, q query.ReadModels, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		t := today(p.Schedule, now())
		fields := map[string]string{}
		year := checkInt(fields, "year", c.QueryParam("year"), t.Year, 1, 9999)
		month := checkInt(fields, "month", c.QueryParam("month"), int(t.Month), 1, 12)
		f := query.ReportFilter{EmployeeID: checkUUID(fields, "employee_id", c.QueryParam("employee_id"))}
		format := c.QueryParam("format")
		if format == "" {
			format = "json"
		}
		if !contains(reportFormats, format) {
			fields["format"] = "must be one of json, csv, xlsx, pdf"
		}
		if err := queryError(fields); err != nil {
			return err
		}
		if f.EmployeeID != "" {
			if _, err := visibleEmployeeID(c, employees, f.EmployeeID); err != nil {
				return err
			}
		} else {
			f.EmployeeID, f.ManagerID = readableScope(p)
		}
		report, err := q.MonthlyWork(c.Request().Context(), year, month, f, t)
		if err != nil {
			return err
		}
		out := monthlyReportJSON(report)
		name := fmt.Sprintf("monthly-work-%04d-%02d", year, month)
		switch format {
		case "csv":
			return writeCSV(c, name+".csv", out)
		case "xlsx":
			return writeXLSX(c, name+".xlsx", out)
		case "pdf":
			return writePDF(c, name+".pdf", out)
		}
		return c.JSON(http.StatusOK, out)
	}
}

var reportHeader = []string{
	"employee_id", "full_name", "days_worked", "worked_minutes", "worked_hours", "expected_minutes",
	"late_days", "late_minutes", "leave_days", "absent_days", "overtime_minutes", "review_days",
	"corrected_days",
}

func reportCells(r MonthlyRowJSON) []string {
	return []string{
		csvText(r.EmployeeID), csvText(text(r.FullName)), strconv.Itoa(r.DaysWorked), strconv.Itoa(r.WorkedMinutes),
		strconv.FormatFloat(r.WorkedHours, 'f', 2, 64), strconv.Itoa(r.ExpectedMinutes), strconv.Itoa(r.LateDays),
		strconv.Itoa(r.LateMinutes), strconv.Itoa(r.LeaveDays), strconv.Itoa(r.AbsentDays), strconv.Itoa(r.OvertimeMinutes),
		strconv.Itoa(r.ReviewDays), strconv.Itoa(r.CorrectedDays),
	}
}

// csvText keeps a spreadsheet from running text as a formula (CSV
// injection): a cell that starts with = + - @, a tab or a CR gets a leading
// apostrophe, as OWASP advises. Numbers are written as they are.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCSV(c echo.Context, filename string, r MonthlyReportJSON) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(reportHeader) // a bytes.Buffer does not fail
	for _, row := range r.Employees {
		_ = w.Write(reportCells(row))
	}
	w.Flush()
	attachment(c, "text/csv; charset=utf-8", filename)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func writeXLSX(c echo.Context, filename string, r MonthlyReportJSON) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	if err := f.SetSheetRow(sheet, "A1", &reportHeader); err != nil {
		return err
	}
	for i, row := range r.Employees {
		cells := []any{
			row.EmployeeID, text(row.FullName), row.DaysWorked, row.WorkedMinutes, row.WorkedHours, row.ExpectedMinutes,
			row.LateDays, row.LateMinutes, row.LeaveDays, row.AbsentDays, row.OvertimeMinutes, row.ReviewDays,
			row.CorrectedDays,
		}
		if err := f.SetSheetRow(sheet, "A"+strconv.Itoa(i+2), &cells); err != nil {
			return err
		}
	}
	if err := f.SetSheetName(sheet, fmt.Sprintf("%04d-%02d", r.Year, r.Month)); err != nil {
		return err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	const ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	attachment(c, ct, filename)
	return c.Blob(http.StatusOK, ct, buf.Bytes())
}

// reportFont is DejaVu Sans, embedded so that PDFs print every name as written.
const reportFont = "DejaVuSans"

var (
	//go:embed fonts/DejaVuSans.ttf
	dejaVuSans []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	dejaVuSansBold []byte
)

func writePDF(c echo.Context, filename string, r MonthlyReportJSON) error {
	var buf bytes.Buffer
	if err := reportPDF(r).Output(&buf); err != nil {
		return err
	}
	attachment(c, "application/pdf", filename)
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}

// reportPDF lays the report out on landscape A4 pages, each starting with
// the column headers so that a printed page reads on its own.
func reportPDF(r MonthlyReportJSON) *fpdf.Fpdf {
	pdf := fpdf.New("L", "mm", "A4", "")
	// The core PDF fonts only know cp1252; names need ş, ı, ğ and more.
	pdf.AddUTF8FontFromBytes(reportFont, "", dejaVuSans)
	pdf.AddUTF8FontFromBytes(reportFont, "B", dejaVuSansBold)
	title := fmt.Sprintf("Monthly work %04d-%02d", r.Year, r.Month)
	pdf.SetTitle(title, true)
	headers := []string{"Employee", "Days", "Worked h", "Expected h", "Late days", "Late min", "Leave", "Absent", "Overtime min", "Review", "Corrected"}
	widths := []float64{65, 18, 24, 24, 20, 20, 18, 18, 26, 18, 22}
	pdf.SetFillColor(230, 230, 230)
	// AddPage, also the automatic one at a page break, runs this first.
	pdf.SetHeaderFunc(func() {
		if pdf.PageNo() == 1 {
			pdf.SetFont(reportFont, "B", 14)
			pdf.CellFormat(0, 10, title, "", 1, "L", false, 0, "")
		}
		pdf.SetFont(reportFont, "B", 9)
		for i, h := range headers {
			pdf.CellFormat(widths[i], 7, h, "1", 0, "C", true, 0, "")
		}
		pdf.Ln(-1)
	})
	pdf.AddPage()
	pdf.SetFont(reportFont, "", 9)
	for _, row := range r.Employees {
		cells := []string{
			text(row.FullName), strconv.Itoa(row.DaysWorked), strconv.FormatFloat(row.WorkedHours, 'f', 2, 64),
			strconv.FormatFloat(float64(row.ExpectedMinutes)/60, 'f', 2, 64), strconv.Itoa(row.LateDays),
			strconv.Itoa(row.LateMinutes), strconv.Itoa(row.LeaveDays), strconv.Itoa(row.AbsentDays), strconv.Itoa(row.OvertimeMinutes),
			strconv.Itoa(row.ReviewDays), strconv.Itoa(row.CorrectedDays),
		}
		for i, s := range cells {
			align := "R"
			if i == 0 {
				align = "L"
			}
			pdf.CellFormat(widths[i], 6, s, "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	return pdf
}
