package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/calendar"
)

// Validator is a request body that checks itself. Valid names each bad field
// (an empty map means valid) and may fill in the parsed forms of the fields.
type Validator interface {
	Valid(ctx context.Context) map[string]string
}

// decode reads one JSON object from the body into a new T and validates it.
// Every failure is a 400 problem that names the field when there is one.
func decode[T any, PT interface {
	*T
	Validator
}](c echo.Context) (*T, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	return decodeBytes[T, PT](c.Request().Context(), body)
}

// readBody reads the whole body; past the size limit it is a 413.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var (
			tooLarge *http.MaxBytesError
			he       *echo.HTTPError
		)
		if errors.As(err, &tooLarge) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return nil, badRequest("could not read the request body", nil)
	}
	return body, nil
}

// decodeBytes is decode without the request, so fuzz tests reach it directly.
func decodeBytes[T any, PT interface {
	*T
	Validator
}](ctx context.Context, body []byte) (*T, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("the request body must be a JSON object", nil)
	}
	v := new(T)
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, badRequest("the request body must hold exactly one JSON object", nil)
	}
	if fields := badText(body); len(fields) > 0 {
		return nil, badRequest("invalid input", fields)
	}
	if fields := PT(v).Valid(ctx); len(fields) > 0 {
		return nil, badRequest("invalid input", fields)
	}
	return v, nil
}

// textProblem says what Postgres would refuse in s as text or jsonb: bytes
// that are not UTF-8, or a NUL. It is "" when s is fine.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "must not contain the NUL character"
	}
	return ""
}

// nulEscape is how JSON writes a NUL.
var nulEscape = []byte(`\u0000`)

// badText names each string of a decoded JSON body that textProblem refuses.
// It reads the body itself, since encoding/json quietly turns bytes that are
// not UTF-8 into U+FFFD; a body with neither such bytes nor a NUL escape is
// fine without looking further.
func badText(body []byte) map[string]string {
	fields := map[string]string{}
	if !utf8.Valid(body) || bytes.Contains(body, nulEscape) {
		findBadText(fields, "", body)
	}
	return fields
}

// findBadText walks one JSON value, naming fields as the validators do:
// "schedule.work_start", "items[2]". The value is valid JSON: it was decoded.
func findBadText(fields map[string]string, name string, value []byte) {
	value = bytes.TrimSpace(value)
	if len(value) == 0 {
		return
	}
	switch value[0] {
	case '"':
		var s string
		_ = json.Unmarshal(value, &s)
		msg := textProblem(string(value)) // the bytes as sent
		if msg == "" {
			msg = textProblem(s) // a NUL escape
		}
		if msg != "" {
			fields[name] = msg
		}
	case '{':
		var object map[string]json.RawMessage
		_ = json.Unmarshal(value, &object)
		for key, v := range object {
			if name != "" {
				key = name + "." + key
			}
			findBadText(fields, key, v)
		}
	case '[':
		var list []json.RawMessage
		_ = json.Unmarshal(value, &list)
		for i, v := range list {
			findBadText(fields, name+"["+strconv.Itoa(i)+"]", v)
		}
	}
}

// checkQueryText refuses, for every route, a query parameter whose name or
// value textProblem refuses, so that no handler passes one to Postgres.
func checkQueryText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.RawQuery == "" {
			return next(c)
		}
		fields := map[string]string{}
		for name, values := range c.QueryParams() {
			msg := textProblem(name)
			for _, v := range values {
				if msg == "" {
					msg = textProblem(v)
				}
			}
			if msg != "" {
				fields[name] = msg
			}
		}
		if err := queryError(fields); err != nil {
			return err
		}
		return next(c)
	}
}

func jsonError(err error) error {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return badRequest("invalid input", map[string]string{typeErr.Field: "must be a " + jsonKind(typeErr.Type.Kind().String())})
	case errors.As(err, &typeErr):
		return badRequest("the request body must be a JSON object", nil)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON", nil)
	default:
		return badRequest("malformed JSON", nil)
	}
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "slice", k == "array":
		return "list"
	case k == "struct", k == "map":
		return "object"
	}
	return k
}

// writeJSON writes v without HTML escaping; the API serves no HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Field checks shared by request types and query strings. Each adds a message
// to fields under name when the value is bad and returns the parsed value.

func checkDate(fields map[string]string, name, s string, required bool) calendar.Date {
	if s == "" {
		if required {
			fields[name] = "required"
		}
		return calendar.Date{}
	}
	d, err := calendar.ParseDate(s)
	if err != nil {
		fields[name] = "must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31"
	}
	return d
}

// checkPeriod reads the dates start_date and end_date of a body, both
// required, the end not before the start.
func checkPeriod(fields map[string]string, start, end string) (calendar.Date, calendar.Date) {
	s := checkDate(fields, "start_date", start, true)
	e := checkDate(fields, "end_date", end, true)
	if fields["start_date"] == "" && fields["end_date"] == "" && e.Before(s) {
		fields["end_date"] = "must not be before start_date"
	}
	return s, e
}

func checkUUID(fields map[string]string, name, s string) string {
	if s == "" {
		return ""
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		fields[name] = "must be a UUID"
		return ""
	}
	return id.String()
}

func checkInt(fields map[string]string, name, s string, def, min, max int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		fields[name] = fmt.Sprintf("must be a whole number from %d to %d", min, max)
		return def
	}
	return n
}

func checkBool(fields map[string]string, name, s string) bool {
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		fields[name] = "must be true or false"
	}
	return b
}

// Paging of lists: limit 1..500, 50 by default.
const (
	defaultLimit = 50
	maxLimit     = 500
)

func checkLimit(fields map[string]string, s string) int {
	return checkInt(fields, "limit", s, defaultLimit, 1, maxLimit)
}

// maxSpanDays bounds the range of dates of one query.
const maxSpanDays = 366

// checkSpan refuses a range of dates that ends before it starts or spans
// more than maxSpanDays.
func checkSpan(from, to calendar.Date) error {
	switch {
	case to.Before(from):
		return badRequest("invalid query parameters", map[string]string{"to": "must not be before from"})
	case from.AddDays(maxSpanDays).Before(to):
		return badRequest("invalid query parameters", map[string]string{"to": fmt.Sprintf("must be at most %d days after from", maxSpanDays)})
	}
	return nil
}

// queryError turns the messages collected from a query string into a 400.
func queryError(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return badRequest("invalid query parameters", fields)
}

// pathID returns the uuid in path parameter name; anything else cannot name
// a resource, so it is a 404 like any unknown id.
func pathID(c echo.Context, name string) (string, error) {
	s := c.Param(name)
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", errNotFound
	}
	return id.String(), nil
}
