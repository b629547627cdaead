package http

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// Limits of an import. A file of 10,000 lines of ordinary length is about
// 1 MiB; the body may hold eight times that. With passwords, bcrypt takes
// most of the time, so the request may run much longer than others.
const (
	maxImportLines = 10_000
	maxImportBytes = 8 << 20
	maxImportCell  = 1000 // bytes
	importTimeout  = 15 * time.Minute
)

// importHeader is the header a file of employees starts with, its columns in
// this order.
var importHeader = []string{"email", "full_name", "role", "manager_email", "position", "hire_date", "timezone", "work_start", "work_end", "workdays", "password"}

// ImportResultJSON is what became of each line of a file.
type ImportResultJSON struct {
	Created  int               `json:"created" example:"98"`
	Existing int               `json:"existing" example:"1"`
	Errors   []ImportErrorJSON `json:"errors"`
}

// ImportErrorJSON is why a line of a file was not imported; line counts the
// header as line 1.
type ImportErrorJSON struct {
	Line  int    `json:"line" example:"7"`
	Error string `json:"error" example:"email: must be a valid email address"`
}

// handleImportEmployees godoc
//
//	@Summary		Import employees from CSV
//	@Description	The body is a CSV file (Content-Type text/csv, UTF-8) whose first line is the header email,full_name,role,manager_email,position,hire_date,timezone,work_start,work_end,workdays,password, then up to 10,000 lines of employees (more: 413). Empty cells take the defaults: role employee, no manager, today's hire date, the company's schedule; workdays are ISO weekdays like 1-5 or "1,2,3" (quoted). manager_email names an employee of the company or of an earlier line. Each line is registered or reported in errors; a line whose email is registered already counts as existing and changes nothing, so the same file imported twice registers nobody twice. A line without a password registers someone who cannot log in until an admin sets their password (POST /api/employees/{id}/password). With passwords bcrypt sets the pace (see docs/benchmarks.md), and a request may run up to 15 minutes.
//	@Tags			employees
//	@Accept			text/csv
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		string	true	"the CSV file"
//	@Success		200		{object}	ImportResultJSON
//	@Failure		400		{object}	ImportHeaderProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Failure		413		{object}	ImportTooLargeProblem
//	@Failure		415		{object}	ImportMediaTypeProblem
//	@Router			/api/employees/import [post]
func handleImportEmployees(imports command.ImportEmployeesHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isCSV(c.Request().Header.Get(echo.HeaderContentType)) {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType)
		}
		// The server's write timeout is for ordinary requests.
		err := http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(importTimeout + time.Minute))
		if err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		lines, refused, err := parseImport(body)
		if err != nil {
			return err
		}
		res, err := imports.Handle(c.Request().Context(), command.ImportEmployees{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Lines: lines,
		})
		if err != nil {
			return err
		}
		out := ImportResultJSON{Created: res.Created, Existing: res.Existing, Errors: refused}
		for _, e := range res.Errors {
			out.Errors = append(out.Errors, ImportErrorJSON{Line: e.Line, Error: lineError(e.Err)})
		}
		slices.SortFunc(out.Errors, func(a, b ImportErrorJSON) int { return a.Line - b.Line })
		if out.Errors == nil {
			out.Errors = []ImportErrorJSON{}
		}
		return c.JSON(http.StatusOK, out)
	}
}

// isCSV reports whether a Content-Type is CSV in UTF-8 (the default).
func isCSV(contentType string) bool {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != "text/csv" {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8")
}

// parseImport reads a file of employees: the lines to register, and those
// refused already for what is wrong in their cells. A file that is no CSV,
// has another header or more lines than allowed is refused as a whole.
func parseImport(body []byte) ([]command.ImportLine, []ImportErrorJSON, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))) // spreadsheets write a BOM
	r.FieldsPerRecord = -1                                                        // a short line is its own error
	wantHeader := badRequest("the first line must be the header "+strings.Join(importHeader, ","), nil)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, wantHeader
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if !slices.Equal(header, importHeader) {
		return nil, nil, wantHeader
	}
	var (
		lines   []command.ImportLine
		refused []ImportErrorJSON
	)
	for n := 1; ; n++ {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return lines, refused, nil
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		if n > maxImportLines {
			return nil, nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		at, _ := r.FieldPos(0)
		line, fields := parseImportLine(record)
		if len(fields) > 0 {
			refused = append(refused, ImportErrorJSON{Line: at, Error: fieldsText(fields)})
			continue
		}
		line.Line = at
		lines = append(lines, line)
	}
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return badRequest(fmt.Sprintf("malformed CSV on line %d: %v", pe.Line, pe.Err), nil)
	}
	return badRequest("malformed CSV", nil)
}

// parseImportLine reads the cells of one line, naming each bad one by its
// column; the registration checks the rest.
func parseImportLine(record []string) (command.ImportLine, map[string]string) {
	fields := map[string]string{}
	if len(record) != len(importHeader) {
		fields["line"] = fmt.Sprintf("must have %d cells, has %d", len(importHeader), len(record))
		return command.ImportLine{}, fields
	}
	cell := map[string]string{}
	for i, col := range importHeader {
		v := record[i]
		if col != "password" { // a password is taken as typed
			v = strings.TrimSpace(v)
		}
		switch msg := textProblem(v); {
		case msg != "":
			fields[col] = msg
		case len(v) > maxImportCell:
			fields[col] = fmt.Sprintf("must be at most %d bytes", maxImportCell)
		}
		cell[col] = v
	}
	if len(fields) > 0 {
		return command.ImportLine{}, fields
	}
	line := command.ImportLine{
		Email: cell["email"], FullName: cell["full_name"], Role: employee.RoleEmployee, ManagerEmail: cell["manager_email"],
		Position: cell["position"], Password: cell["password"],
		HireDate: checkDate(fields, "hire_date", cell["hire_date"], false),
	}
	if role := cell["role"]; role != "" {
		if _, err := employee.ParseRole(role); err != nil {
			fields["role"] = employee.ErrInvalidRole.Error()
		}
		line.Role = employee.Role(role)
	}
	var s command.SchedulePatch
	if tz := cell["timezone"]; tz != "" {
		s.Timezone = &tz
	}
	for col, into := range map[string]**calendar.Clock{"work_start": &s.WorkStart, "work_end": &s.WorkEnd} {
		if v := cell[col]; v != "" {
			clock, err := calendar.ParseClock(v)
			if err != nil {
				fields[col] = "must be a time of day HH:MM between 00:00 and 23:59"
			}
			*into = &clock
		}
	}
	if v := cell["workdays"]; v != "" {
		days, err := parseWorkdays(v)
		if err != nil {
			fields["workdays"] = err.Error()
		}
		s.Workdays = days
	}
	if s.Timezone != nil || s.WorkStart != nil || s.WorkEnd != nil || s.Workdays != nil {
		line.Schedule = &s
	}
	return line, fields
}

// errBadWorkdays says how workdays are written.
var errBadWorkdays = errors.New(`must be ISO weekdays 1-7 as a range or a list: 1-5 or "1,2,3"`)

// parseWorkdays reads "1-5", "1,2,3" or both ("1-3,6") into sorted
// weekdays.
func parseWorkdays(s string) ([]int, error) {
	set := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			to = from
		}
		a, errA := strconv.Atoi(strings.TrimSpace(from))
		b, errB := strconv.Atoi(strings.TrimSpace(to))
		if errA != nil || errB != nil || a < 1 || b > 7 || a > b {
			return nil, errBadWorkdays
		}
		for d := a; d <= b; d++ {
			set[d] = true
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// lineError is the words of a line's refusal: each field's message, by
// field, or what the refusal says.
func lineError(err error) string {
	if fields := errkind.Fields(err); len(fields) > 0 {
		return fieldsText(fields)
	}
	return err.Error()
}

func fieldsText(fields map[string]string) string {
	parts := make([]string, 0, len(fields))
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, f+": "+fields[f])
	}
	return strings.Join(parts, "; ")
}
