package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DatabaseURL", c.DatabaseURL, "postgres://postgres@127.0.0.1:5432/employee_tracking?sslmode=disable"},
		{"RedisURL", c.RedisURL, "redis://127.0.0.1:6379/0"},
		{"HTTPAddr", c.HTTPAddr, ":8000"},
		{"WorkerHTTPAddr", c.WorkerHTTPAddr, ":8001"},
		{"PprofAddr", c.PprofAddr, ""},
		{"CompanyTimezone", c.CompanyTimezone, "Europe/Istanbul"},
		{"DefaultWorkStart", c.DefaultWorkStart, "08:00"},
		{"DefaultWorkEnd", c.DefaultWorkEnd, "17:00"},
		{"LateGraceMinutes", c.LateGraceMinutes, 0},
		{"AnnualLeaveDays", c.AnnualLeaveDays, 15},
		{"LowLeaveThresholdDays", c.LowLeaveThresholdDays, 3},
		{"LatenessDeductsLeave", c.LatenessDeductsLeave, false},
		{"CarryOverMaxDays", c.CarryOverMaxDays, 0},
		{"CarryOverExpiresMonths", c.CarryOverExpiresMonths, 3},
		{"DailyCheckAt", c.DailyCheckAt, "10:00"},
		{"AttendanceRules", c.AttendanceRules(), attendance.DefaultRules()},
		{"EarlyCheckIn", c.AttendanceRules().EarlyCheckIn, 2 * time.Hour},
		{"AutoCheckoutAfter", c.AttendanceRules().AutoCheckoutAfter, 4 * time.Hour},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"MigrateOnStart", c.MigrateOnStart, true},
		{"AccessTokenTTL", c.AccessTokenTTL, 15 * time.Minute},
		{"IdempotencyKeyTTL", c.IdempotencyKeyTTL, 24 * time.Hour},
		{"GroupMembers", c.GroupMembers, 1},
		{"BusPartitions", c.BusPartitions, 1},
		{"SealInterval", c.SealInterval, time.Second},
		{"PipelineYield", c.PipelineYield, time.Second},
		{"PipelineHandOverAlone", c.PipelineHandOverAlone, true},
		{"JWTSecretIsRandom", c.JWTSecretIsRandom, true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if len(c.JWTSecret) < 32 {
		t.Errorf("random JWT secret has %d bytes, want at least 32", len(c.JWTSecret))
	}
}

func TestLoadOverrides(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"REDIS_URL":                       "memory",
		"JWT_SECRET":                      "s3cret",
		"LATE_GRACE_MINUTES":              "10",
		"LATENESS_DEDUCTS_LEAVE":          "true",
		"LEAVE_CARRY_OVER_MAX_DAYS":       "5",
		"LEAVE_CARRY_OVER_EXPIRES_MONTHS": "0",
		"DAILY_CHECK_AT":                  "9:30",
		"LOG_LEVEL":                       "debug",
		"MIGRATE_ON_START":                "false",
		"CORS_ALLOW_ORIGINS":              "https://a.example, https://b.example",
		"DATA_KEY":                        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.RedisURL != MemoryBus || string(c.JWTSecret) != "s3cret" || c.JWTSecretIsRandom ||
		c.LateGraceMinutes != 10 || !c.LatenessDeductsLeave || c.DailyCheckAt != "09:30" ||
		c.CarryOverMaxDays != 5 || c.CarryOverExpiresMonths != 0 || c.LeavePolicy().CarryOverMaxDays != 5 ||
		c.LogLevel != slog.LevelDebug || c.MigrateOnStart || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://b.example" ||
		len(c.DataKey) != 32 || c.DataKey[31] != 31 {
		t.Errorf("overrides not applied: %+v", c)
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"COMPANY_TIMEZONE":   "Mars/Olympus",
		"LATE_GRACE_MINUTES": "-1",
		"ANNUAL_LEAVE_DAYS":  "fifteen",
		"DAILY_CHECK_AT":     "25:00",
		"ADMIN_EMAIL":        "admin@example.com",
		"DATA_KEY":           "c2hvcnQ=",
	}))
	if err == nil {
		t.Fatal("Load accepted bad values")
	}
	for _, name := range []string{"COMPANY_TIMEZONE", "LATE_GRACE_MINUTES", "ANNUAL_LEAVE_DAYS", "DAILY_CHECK_AT", "ADMIN_PASSWORD", "DATA_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

// PIPELINE_YIELD may be 0 (the pipeline never yields) and at most a
// minute: the read models wait that long under a saturated API.
func TestPipelineYieldIsFromZeroToAMinute(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"0": 0, "250ms": 250 * time.Millisecond, "1m": time.Minute} {
		c, err := Load(env(map[string]string{"PIPELINE_YIELD": v}))
		if err != nil || c.PipelineYield != want {
			t.Errorf("PIPELINE_YIELD=%s: %v, %v, want %v", v, c.PipelineYield, err, want)
		}
	}
	for _, v := range []string{"-1s", "61s", "soon", "1"} {
		if _, err := Load(env(map[string]string{"PIPELINE_YIELD": v})); err == nil || !strings.Contains(err.Error(), "PIPELINE_YIELD") {
			t.Errorf("PIPELINE_YIELD=%s: error %v, want one naming it", v, err)
		}
	}
}

func TestLoadRejectsInvertedSchedule(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"DEFAULT_WORK_START": "18:00", "DEFAULT_WORK_END": "09:00"}))
	if err == nil || !strings.Contains(err.Error(), "DEFAULT_WORK_START") {
		t.Fatalf("got %v, want an error naming DEFAULT_WORK_START", err)
	}
}

func TestDailyCheckIsTheClockOfDailyCheckAt(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"DAILY_CHECK_AT": "07:45"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.DailyCheck(); got.Hour() != 7 || got.Minute() != 45 {
		t.Fatalf("DailyCheck() = %s, want 07:45", got)
	}
}

func TestLoadAttendanceRules(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"EARLY_CHECKIN_MINUTES": "45", "AUTO_CHECKOUT_AFTER": "90m"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.AttendanceRules(), (attendance.Rules{EarlyCheckIn: 45 * time.Minute, AutoCheckoutAfter: 90 * time.Minute}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for name, v := range map[string]string{"EARLY_CHECKIN_MINUTES": "-1", "AUTO_CHECKOUT_AFTER": "0s"} {
		if _, err := Load(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming it", name, v, err)
		}
	}
}

func TestLoadApprovalTiming(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ApprovalTiming(), approval.DefaultTiming(); got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	c, err = Load(env(map[string]string{"APPROVAL_REMINDER_AFTER": "30m", "APPROVAL_ESCALATE_AFTER": "2h"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ApprovalTiming(), (approval.Timing{RemindAfter: 30 * time.Minute, EscalateAfter: 2 * time.Hour}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, name := range []string{"APPROVAL_REMINDER_AFTER", "APPROVAL_ESCALATE_AFTER"} {
		if _, err := Load(env(map[string]string{name: "soon"})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=soon: got %v, want an error naming it", name, err)
		}
	}
}
