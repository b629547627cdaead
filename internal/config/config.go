// Package config reads the program's settings from environment variables.
// Every variable is documented in .env.example; the defaults are the ones of
// the API contract.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting of the server, the worker and etctl.
type Config struct {
	DatabaseURL           string
	RedisURL              string // "memory" selects the in-process bus
	RedisPrefix           string // names every Redis stream and key of the bus
	HTTPAddr              string
	WorkerHTTPAddr        string // where the worker serves its health and metrics endpoints
	PprofAddr             string // where the server serves net/http/pprof; empty: nowhere
	JWTSecret             []byte
	JWTSecretIsRandom     bool
	AdminEmail            string
	AdminPassword         string
	CompanyTimezone       string
	DefaultWorkStart      string // HH:MM
	DefaultWorkEnd        string // HH:MM
	LateGraceMinutes      int
	AnnualLeaveDays       int
	LowLeaveThresholdDays int
	LatenessDeductsLeave  bool
	// CarryOverMaxDays and CarryOverExpiresMonths are the built-in annual
	// type's carry-over cap, and the month of the new year at whose end
	// carried days lapse (0: never).
	CarryOverMaxDays       int
	CarryOverExpiresMonths int
	DailyCheckAt           string        // HH:MM local to each employee
	EarlyCheckInMinutes    int           // how long before a shift's start a check-in belongs to it
	AutoCheckoutAfter      time.Duration // how long past its shift's end an open check-in is closed by the system
	ApprovalReminderAfter  time.Duration // how long a pending approval step waits before its approver is reminded
	ApprovalEscalateAfter  time.Duration // how long a pending approval step waits before it goes one level up
	LogLevel               slog.Level
	MigrateOnStart         bool
	CORSOrigins            []string
	AccessTokenTTL         time.Duration
	RefreshTokenTTL        time.Duration
	IdempotencyKeyTTL      time.Duration // how long a POST's Idempotency-Key is remembered
	GroupMembers           int           // members of each consumer group per partition and process
	BusPartitions          int           // partitions of each stream category's topic on the bus
	SealInterval           time.Duration // how often the sealer seals what the feed committed since the last seal
	PipelineYield          time.Duration // how long at most the pipeline holds back while the API is saturated; 0 never
	PipelineHandOverAlone  bool          // the relay hands events to its process's consumers directly while no other process runs a pipeline
	PasswordCost           int           // bcrypt cost of stored password hashes
	// DataKey wraps the keys of personal data (DATA_KEY, base64 of 32
	// bytes); nil when unset, and the data key kept in the database is used.
	DataKey []byte
}

// dataKeySize is DATA_KEY's size in bytes: an AES-256 key.
const dataKeySize = 32

// ParseDataKey decodes a data key: base64 of 32 bytes.
func ParseDataKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != dataKeySize {
		return nil, fmt.Errorf("want the base64 of %d bytes", dataKeySize)
	}
	return key, nil
}

// MemoryBus is the REDIS_URL value that selects Watermill's in-process
// GoChannel instead of Redis Streams.
const MemoryBus = "memory"

// Load reads the configuration through getenv (os.Getenv in production, a map
// in tests). It returns every problem at once so a misconfigured deployment
// is fixed in one go.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		DatabaseURL:            p.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/employee_tracking?sslmode=disable"),
		RedisURL:               p.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisPrefix:            p.str("REDIS_PREFIX", "et."),
		HTTPAddr:               p.str("HTTP_ADDR", ":8000"),
		WorkerHTTPAddr:         p.str("WORKER_HTTP_ADDR", ":8001"),
		PprofAddr:              p.str("PPROF_ADDR", ""),
		AdminEmail:             p.str("ADMIN_EMAIL", ""),
		AdminPassword:          p.str("ADMIN_PASSWORD", ""),
		CompanyTimezone:        p.timezone("COMPANY_TIMEZONE", "Europe/Istanbul"),
		DefaultWorkStart:       p.clock("DEFAULT_WORK_START", "08:00"),
		DefaultWorkEnd:         p.clock("DEFAULT_WORK_END", "17:00"),
		LateGraceMinutes:       p.int("LATE_GRACE_MINUTES", 0, 0, 240),
		AnnualLeaveDays:        p.int("ANNUAL_LEAVE_DAYS", 15, 0, 366),
		LowLeaveThresholdDays:  p.int("LOW_LEAVE_THRESHOLD_DAYS", 3, 0, 366),
		LatenessDeductsLeave:   p.bool("LATENESS_DEDUCTS_LEAVE", false),
		CarryOverMaxDays:       p.int("LEAVE_CARRY_OVER_MAX_DAYS", 0, 0, 366),
		CarryOverExpiresMonths: p.int("LEAVE_CARRY_OVER_EXPIRES_MONTHS", 3, 0, 12),
		DailyCheckAt:           p.clock("DAILY_CHECK_AT", "10:00"),
		EarlyCheckInMinutes:    p.int("EARLY_CHECKIN_MINUTES", 120, 0, 720),
		AutoCheckoutAfter:      p.duration("AUTO_CHECKOUT_AFTER", 4*time.Hour),
		ApprovalReminderAfter:  p.duration("APPROVAL_REMINDER_AFTER", 48*time.Hour),
		ApprovalEscalateAfter:  p.duration("APPROVAL_ESCALATE_AFTER", 96*time.Hour),
		LogLevel:               p.level("LOG_LEVEL", slog.LevelInfo),
		MigrateOnStart:         p.bool("MIGRATE_ON_START", true),
		CORSOrigins:            p.list("CORS_ALLOW_ORIGINS"),
		AccessTokenTTL:         p.duration("ACCESS_TOKEN_TTL", 15*time.Minute),
		RefreshTokenTTL:        p.duration("REFRESH_TOKEN_TTL", 7*24*time.Hour),
		IdempotencyKeyTTL:      p.duration("IDEMPOTENCY_KEY_TTL", 24*time.Hour),
		GroupMembers:           p.int("GROUP_MEMBERS", 1, 1, 32),
		BusPartitions:          p.int("BUS_PARTITIONS", 1, 1, 64),
		SealInterval:           p.duration("SEAL_INTERVAL", time.Second),
		PipelineYield:          p.durationUpTo("PIPELINE_YIELD", time.Second, time.Minute),
		PipelineHandOverAlone:  p.bool("PIPELINE_HANDOVER_ALONE", true),
		PasswordCost:           p.int("BCRYPT_COST", 10, 4, 15),
	}
	if secret := getenv("JWT_SECRET"); secret != "" {
		c.JWTSecret = []byte(secret)
	} else {
		c.JWTSecret = randomSecret()
		c.JWTSecretIsRandom = true
	}
	if v := p.str("DATA_KEY", ""); v != "" {
		key, err := ParseDataKey(v)
		if err != nil {
			p.errs = append(p.errs, "DATA_KEY: "+err.Error())
		}
		c.DataKey = key
	}
	if c.DefaultWorkStart >= c.DefaultWorkEnd && len(p.errs) == 0 {
		p.errs = append(p.errs, "DEFAULT_WORK_START must be before DEFAULT_WORK_END")
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		p.errs = append(p.errs, "ADMIN_EMAIL and ADMIN_PASSWORD must be set together")
	}
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("config: %s", strings.Join(p.errs, "; "))
	}
	return c, nil
}

func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return []byte(hex.EncodeToString(b))
}

type parser struct {
	getenv func(string) string
	errs   []string
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) int(name string, def, min, max int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want a whole number from %d to %d", name, v, min, max))
		return def
	}
	return n
}

func (p *parser) bool(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want true or false", name, v))
		return def
	}
	return b
}

func (p *parser) clock(name, def string) string {
	v := p.str(name, def)
	t, err := time.Parse("15:04", v)
	if err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want HH:MM", name, v))
		return def
	}
	return t.Format("15:04")
}

func (p *parser) timezone(name, def string) string {
	v := p.str(name, def)
	if _, err := time.LoadLocation(v); err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: unknown timezone", name, v))
		return def
	}
	return v
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want a positive duration such as 15m", name, v))
		return def
	}
	return d
}

// durationUpTo is a duration from 0 to max.
func (p *parser) durationUpTo(name string, def, max time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > max {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want a duration from 0 to %s, such as 1s", name, v, max))
		return def
	}
	return d
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.errs = append(p.errs, fmt.Sprintf("%s=%q: want debug, info, warn or error", name, v))
		return def
	}
	return l
}

func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.str(name, ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
