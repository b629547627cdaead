package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testenv"
	"github.com/acme/employee-tracking/projections"
)

// personalTexts are what an erasure must leave nowhere: each is unique to the
// test, so finding one anywhere is finding a copy.
type personalTexts struct {
	name, email, position, leaveReason, note, entitlementReason string
	correctionReason, correctionNote, adjustmentReason          string
}

func newPersonalTexts() personalTexts {
	tag := testenv.RandomHex(6)
	return personalTexts{
		name:              "Zeynep Kılıçarslan" + tag,
		email:             "zeynep." + tag + "@example.com",
		position:          "Chief Tea Sommelier " + tag,
		leaveReason:       "visiting my sister " + tag,
		note:              "enjoy the trip " + tag,
		entitlementReason: "long service award " + tag,
		correctionReason:  "badge left at home " + tag,
		correctionNote:    "seen at the desk by 8 " + tag,
		adjustmentReason:  "worked the fair weekend " + tag,
	}
}

func (p personalTexts) all() []string {
	return []string{p.name, p.email, p.position, p.leaveReason, p.note, p.entitlementReason, p.correctionReason, p.correctionNote,
		p.adjustmentReason}
}

// nextWorkweek is the Monday at least a week after now, and the Wednesday after it.
func nextWorkweek(now time.Time) (monday, wednesday time.Time) {
	d := now.UTC().AddDate(0, 0, 7)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return d, d.AddDate(0, 0, 2)
}

// TestErasure: after an admin erases an employee, their name, email, position
// and the text written about them read as null with erased true in every read
// (the employee, lists, leave, notifications, the feed, the history, the
// report), a rebuild of the read models agrees with the live ones, the login
// is gone, the counts stay, the seals verify, and a pg_dump of the database
// holds none of the erased text: not in events, read models, idempotency
// records nor credentials. Their manager, erased next, leaves no name in the
// notification of a decision they made for a colleague, which reads with
// decided_by_name null, nor anywhere else.
func TestErasure(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"SEAL_INTERVAL": "20ms"})
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	// The manager decides a colleague's leave, and is erased in turn: their
	// name, in the colleague's notification of the decision, goes with them.
	managerName := "Mehmet Karaoğlan" + testenv.RandomHex(6)
	mgr := a.register(admin, "manager", map[string]any{"full_name": managerName})
	colleague := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	p := newPersonalTexts()

	// The registration goes through the idempotency store, whose record
	// keeps the answer (naming her) and recognises the body (her password).
	registration := map[string]any{
		"email": p.email, "password": password, "full_name": p.name, "role": "employee", "manager_id": mgr.ID,
		"position": p.position, "hire_date": "2024-01-01",
	}
	var emp user
	a.must(http.StatusCreated, "POST", "/api/employees/", admin.token, registration, &emp, "Idempotency-Key", "register-zeynep")
	emp.token = a.login(p.email, password)
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)

	monday, wednesday := nextWorkweek(time.Now())
	year := monday.Year()
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token,
		map[string]any{"year": year, "entitlement_days": 20, "reason": p.entitlementReason}, nil)
	var req leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{
		"start_date": monday.Format(time.DateOnly), "end_date": wednesday.Format(time.DateOnly), "reason": p.leaveReason,
	}, &req)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+req.ID+"/change-status/", mgr.token,
		map[string]string{"status": "approved", "note": p.note}, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-balances/"+emp.ID+"/adjustments/", mgr.token,
		map[string]any{"leave_type": "compensatory", "days": 1, "reason": p.adjustmentReason}, nil)
	// A correction of yesterday, filed by her and decided with a note.
	yesterday := time.Now().UTC().AddDate(0, 0, -1)
	in := time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 8, 0, 0, 0, time.UTC)
	var fix struct{ ID string }
	a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", emp.token, map[string]string{
		"date": in.Format(time.DateOnly), "check_in": in.Format(time.RFC3339), "check_out": in.Add(8 * time.Hour).Format(time.RFC3339),
		"reason": p.correctionReason,
	}, &fix)
	a.must(http.StatusOK, "POST", "/api/attendance/corrections/"+fix.ID+"/change-status/", mgr.token,
		map[string]string{"status": "approved", "note": p.correctionNote}, nil)
	var theirs leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", colleague.token, map[string]string{
		"start_date": monday.Format(time.DateOnly), "end_date": monday.Format(time.DateOnly), "reason": "a day off",
	}, &theirs)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+theirs.ID+"/change-status/", mgr.token,
		map[string]string{"status": "approved"}, nil)
	var decision struct {
		Items []json.RawMessage `json:"items"`
	}
	eventually(t, "the colleague told of the manager's decision, by name", func() bool {
		a.must(http.StatusOK, "GET", "/api/notifications/", colleague.token, nil, &decision)
		return len(decision.Items) == 1 && bytes.Contains(decision.Items[0], []byte("approved by "+managerName))
	})
	var notes notificationPage
	eventually(t, "the manager told of the request and the employee of the decision", func() bool {
		a.must(http.StatusOK, "GET", "/api/notifications/", mgr.token, nil, &notes)
		var mine notificationPage
		a.must(http.StatusOK, "GET", "/api/notifications/", emp.token, nil, &mine)
		return len(notes.Items) > 1 && len(mine.Items) > 0
	})
	if !slices.ContainsFunc(notes.Items, func(n notificationItem) bool { return strings.Contains(*n.Message, p.name) }) {
		t.Fatalf("no notification of the manager's names her: the test would prove nothing")
	}

	// Who may erase, and what a reason may say.
	path := "/api/employees/" + emp.ID + "/erase/"
	reason := map[string]string{"reason": "erasure requested under GDPR art. 17"}
	for _, u := range []user{mgr, auditor, emp} {
		a.must(http.StatusForbidden, "POST", path, u.token, reason, nil)
	}
	a.must(http.StatusForbidden, "POST", "/api/employees/"+admin.ID+"/erase/", admin.token, reason, nil)
	a.must(http.StatusNotFound, "POST", "/api/employees/00000000-0000-0000-0000-000000000000/erase/", admin.token, reason, nil)
	a.must(http.StatusUnauthorized, "POST", path, "", reason, nil)
	for _, body := range []any{`{}`, `{"reason":""}`, `{"reason":"asked by ` + p.email + `"}`, `{"reason":"` + p.name + ` left"}`, `{"reason":"x\u0000"}`, `[`} {
		r := a.call("POST", path, admin.token, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("erase with %s = %s, want 400", body, r)
		}
	}

	var erased struct {
		FullName, Email, Position *string
		Erased                    bool
	}
	a.must(http.StatusOK, "POST", path, admin.token, reason, &erased)
	if erased.FullName != nil || erased.Email != nil || erased.Position != nil || !erased.Erased {
		t.Errorf("erase answered %+v, want null personal fields and erased", erased)
	}
	a.must(http.StatusOK, "POST", path, admin.token, map[string]string{"reason": "asked again"}, nil)

	// The login is gone: the password and the tokens of her sessions.
	a.must(http.StatusUnauthorized, "POST", "/api/auth/login/", "", map[string]string{"email": p.email, "password": password}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)

	// Every read shows the personal fields as null, with erased true.
	checkErased := func(what string, body []byte, fields ...string) {
		t.Helper()
		for _, text := range p.all() {
			if bytes.Contains(body, []byte(text)) {
				t.Errorf("%s still holds %q: %s", what, text, body)
			}
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if v["erased"] != true {
			t.Errorf("%s: erased = %v, want true: %s", what, v["erased"], body)
		}
		for _, f := range fields {
			if got, ok := v[f]; !ok || got != nil {
				t.Errorf("%s: %s = %v, want null", what, f, got)
			}
		}
	}
	checkErased("GET employee", a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/", admin.token, nil, nil).body, "full_name", "email", "position")
	eventually(t, "the read models erased", func() bool {
		var list struct{ Items []json.RawMessage }
		a.must(http.StatusOK, "GET", "/api/employees/?limit=500", admin.token, nil, &list)
		for _, item := range list.Items {
			if bytes.Contains(item, []byte(emp.ID)) {
				return bytes.Contains(item, []byte(`"erased":true`))
			}
		}
		return false
	})
	var list struct{ Items []json.RawMessage }
	a.must(http.StatusOK, "GET", "/api/employees/?limit=500", admin.token, nil, &list)
	for _, item := range list.Items {
		if bytes.Contains(item, []byte(emp.ID)) {
			checkErased("the employee list", item, "full_name", "email", "position")
		}
	}
	checkErased("GET leave request", a.must(http.StatusOK, "GET", "/api/leave-management/"+req.ID+"/", admin.token, nil, nil).body, "reason", "note")
	var leaves struct{ Items []json.RawMessage }
	a.must(http.StatusOK, "GET", "/api/leave-management/?employee_id="+emp.ID, mgr.token, nil, &leaves)
	if len(leaves.Items) != 1 {
		t.Fatalf("leave list = %d items, want 1", len(leaves.Items))
	}
	checkErased("the leave list", leaves.Items[0], "reason", "note")
	var fixes struct{ Items []json.RawMessage }
	a.must(http.StatusOK, "GET", "/api/attendance/corrections/?employee_id="+emp.ID, mgr.token, nil, &fixes)
	if len(fixes.Items) != 1 {
		t.Fatalf("correction list = %d items, want 1", len(fixes.Items))
	}
	checkErased("the correction list", fixes.Items[0], "reason", "note")
	var raw struct{ Items []json.RawMessage }
	a.must(http.StatusOK, "GET", "/api/notifications/", mgr.token, nil, &raw)
	for _, n := range raw.Items {
		if !bytes.Contains(n, []byte(colleague.ID)) { // not the colleague's request
			checkErased("the manager's notification", n, "message", "data")
		}
	}
	monthly := a.must(http.StatusOK, "GET", fmt.Sprintf("/api/reports/monthly-work/?year=%d&month=%d&employee_id=%s",
		time.Now().UTC().Year(), time.Now().UTC().Month(), emp.ID), admin.token, nil, nil).body
	var report struct{ Employees []json.RawMessage }
	if err := json.Unmarshal(monthly, &report); err != nil || len(report.Employees) != 1 {
		t.Fatalf("report %s: %v", monthly, err)
	}
	checkErased("the monthly report", report.Employees[0], "full_name")

	var history struct{ Items []json.RawMessage }
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", auditor.token, nil, &history)
	// The feed shows an event once every transaction older than its own has
	// ended, other tests' included.
	var feed struct{ Items []json.RawMessage }
	eventually(t, "the feed shows every event of hers", func() bool {
		a.must(http.StatusOK, "GET", "/api/events/?limit=500&employee_id="+emp.ID, auditor.token, nil, &feed)
		return len(feed.Items) == len(history.Items)
	})
	for i, item := range append(feed.Items, history.Items...) {
		var ev struct {
			Type   string
			Data   map[string]any
			Erased bool
		}
		if err := json.Unmarshal(item, &ev); err != nil {
			t.Fatal(err)
		}
		for _, text := range p.all() {
			if bytes.Contains(item, []byte(text)) {
				t.Errorf("event %d (%s) still holds %q", i, ev.Type, text)
			}
		}
		if ev.Type == "employee.registered" {
			if !ev.Erased || ev.Data["full_name"] != nil || ev.Data["role"] != "employee" {
				t.Errorf("registration reads %s, want its personal fields null and the rest as stored", item)
			}
		}
	}

	// The counts stay.
	var balance balanceJSON
	a.must(http.StatusOK, "GET", fmt.Sprintf("/api/leave-balances/%s/?year=%d", emp.ID, year), admin.token, nil, &balance)
	if balance.Entitlement != 20 || balance.Used != 3 {
		t.Errorf("balance after erasure = %+v, want 20 days with 3 used", balance)
	}

	// The manager is erased: the colleague's notification of their decision
	// keeps the decision and loses the name.
	a.must(http.StatusOK, "POST", "/api/employees/"+mgr.ID+"/erase/", admin.token, reason, nil)
	a.must(http.StatusOK, "GET", "/api/notifications/", colleague.token, nil, &decision)
	var decided struct {
		Message string
		Data    map[string]any
		Erased  bool
	}
	if len(decision.Items) != 1 || json.Unmarshal(decision.Items[0], &decided) != nil {
		t.Fatalf("the colleague's notifications: %s", decision.Items)
	}
	if name, ok := decided.Data["decided_by_name"]; !ok || name != nil || decided.Erased || bytes.Contains(decision.Items[0], []byte(managerName)) ||
		!strings.Contains(decided.Message, "approved by a person whose data was erased") {
		t.Errorf("the colleague's notification after the manager's erasure: %s; want it with decided_by_name null, and not erased", decision.Items[0])
	}

	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	// The seals still verify: the stored events did not change.
	var stored int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every event sealed and verified", func() bool {
		var v verifyJSON
		a.must(http.StatusOK, "GET", "/api/audit/verify/", auditor.token, nil, &v)
		return v.OK && v.Events == stored
	})

	// A rebuild from the events gives the read models as they are.
	codec, _, _, err := eventcodec.Open(context.Background(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	var diffs bytes.Buffer
	eventually(t, "the live read models caught up with a rebuild", func() bool {
		diffs.Reset()
		n, err := projections.Verify(context.Background(), pool, eventstore.New(pool, codec), nil, &diffs, io.Discard)
		return err == nil && n == 0
	})

	// The database holds none of it: in a dump, no erased text, and no
	// request hash a dictionary of passwords could be tried against.
	dump, err := exec.Command("pg_dump", "--no-owner", a.dbURL).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte(mgr.ID)) || !bytes.Contains(dump, []byte("idempotency_keys")) {
		t.Fatal("the dump holds neither the manager's id nor the idempotency table: the grep below would prove nothing")
	}
	for _, text := range append(p.all(), strings.ToLower(p.email), password, managerName, mgr.Email) {
		if bytes.Contains(dump, []byte(text)) {
			t.Errorf("pg_dump holds %q", text)
		}
	}
	body, _ := json.Marshal(registration)
	unsalted := sha256.Sum256(append([]byte("/api/employees/\x00"), body...))
	if bytes.Contains(dump, []byte(fmt.Sprintf("%x", unsalted))) {
		t.Error("pg_dump holds the unsalted SHA-256 of the registration body")
	}
	// The idempotency record still answers a repeat, with the answer as it
	// was given then.
	again := a.must(http.StatusCreated, "POST", "/api/employees/", admin.token, registration, nil, "Idempotency-Key", "register-zeynep")
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Contains(again.body, []byte(p.name)) {
		t.Errorf("a repeat of the registration answered %s, want the first answer replayed", again)
	}
}

type notificationPage struct {
	Items []notificationItem `json:"items"`
}

type notificationItem struct {
	Message *string        `json:"message"`
	Data    map[string]any `json:"data"`
}

// TestExportEmployee: an employee, and an admin, get everything held about
// the employee: their events decoded, their balances and their attendance;
// nobody else does. After an erasure the export holds nothing erased.
func TestExportEmployee(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	p := newPersonalTexts()
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": p.name, "position": p.position})
	other := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)
	monday, wednesday := nextWorkweek(time.Now())
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{
		"start_date": monday.Format(time.DateOnly), "end_date": wednesday.Format(time.DateOnly), "reason": p.leaveReason,
	}, nil)

	type balanceOfExport struct {
		LeaveType   string  `json:"leave_type"`
		Year        int     `json:"year"`
		Entitlement float64 `json:"entitlement"`
		Pending     float64 `json:"pending"`
	}
	type export struct {
		Employee struct {
			ID       string  `json:"id"`
			FullName *string `json:"full_name"`
			Erased   bool    `json:"erased"`
		} `json:"employee"`
		Events []struct {
			Type   string         `json:"type"`
			Data   map[string]any `json:"data"`
			Erased bool           `json:"erased"`
		} `json:"events"`
		Balances   []balanceOfExport `json:"balances"`
		Attendance []struct {
			Date string `json:"date"`
		} `json:"attendance"`
	}
	path := "/api/employees/" + emp.ID + "/export/"
	eventually(t, "today's attendance in the read model", func() bool {
		var x export
		a.must(http.StatusOK, "GET", path, emp.token, nil, &x)
		return len(x.Attendance) == 1
	})
	for _, u := range []user{admin, emp} {
		var x export
		r := a.must(http.StatusOK, "GET", path, u.token, nil, &x)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("export as %s: Content-Type %q", u.Role, ct)
		}
		types := map[string]map[string]any{}
		for _, ev := range x.Events {
			types[ev.Type] = ev.Data
		}
		if x.Employee.ID != emp.ID || x.Employee.FullName == nil || *x.Employee.FullName != p.name ||
			types["employee.registered"]["full_name"] != p.name || types["leave.requested"]["reason"] != p.leaveReason ||
			types["attendance.checked_in"] == nil || len(x.Attendance) != 1 {
			t.Errorf("export as %s: %+v", u.Role, x)
		}
		thisYear := time.Now().UTC().Year()
		if n := len(x.Balances); n == 0 || x.Balances[n-1].Year != thisYear || x.Balances[0].Year != 2024 {
			t.Errorf("export as %s: balances %+v, want 2024 (the hire) to %d", u.Role, x.Balances, thisYear)
		}
	}
	for _, c := range []struct {
		who  user
		path string
		want int
	}{
		{mgr, path, http.StatusForbidden},                             // a manager reads a report's records, not their export
		{auditor, path, http.StatusForbidden},                         // an auditor reads the feed, and exports only their own
		{other, path, http.StatusNotFound},                            // a colleague does not see her at all
		{mgr, "/api/employees/" + mgr.ID + "/export/", http.StatusOK}, // everyone gets their own
		{auditor, "/api/employees/" + auditor.ID + "/export", http.StatusOK},
		{admin, "/api/employees/00000000-0000-0000-0000-000000000000/export/", http.StatusNotFound},
		{admin, "/api/employees/not-a-uuid/export/", http.StatusNotFound},
		{user{}, path, http.StatusUnauthorized},
	} {
		if r := a.call("GET", c.path, c.who.token, nil); r.status != c.want {
			t.Errorf("GET %s as %q = %d, want %d", c.path, c.who.Role, r.status, c.want)
		}
	}

	a.must(http.StatusOK, "POST", "/api/employees/"+emp.ID+"/erase/", admin.token, map[string]string{"reason": "asked for"}, nil)
	body := a.must(http.StatusOK, "GET", path, admin.token, nil, nil).body
	for _, text := range p.all() {
		if bytes.Contains(body, []byte(text)) {
			t.Errorf("the export after erasure holds %q", text)
		}
	}
	var x export
	if err := json.Unmarshal(body, &x); err != nil {
		t.Fatal(err)
	}
	// The counts stay: this year's annual leave, with the request pending.
	annual := slices.IndexFunc(x.Balances, func(b balanceOfExport) bool {
		return b.LeaveType == "annual" && b.Year == time.Now().UTC().Year()
	})
	if !x.Employee.Erased || x.Employee.FullName != nil || annual < 0 || x.Balances[annual].Pending != 3 || x.Balances[annual].Entitlement == 0 {
		t.Errorf("export after erasure: %+v", x)
	}
}
