package startup

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
)

// go-redis's own lines, one per failed dial during a Redis outage, go to the
// program's log at debug level, not to stderr.
func TestRedisClientLogGoesToTheProgramLogAtDebug(t *testing.T) {
	var out testenv.LockedBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := config.Load(func(name string) string {
		return map[string]string{
			"DATABASE_URL": testdb.URL(t),
			"REDIS_URL":    "redis://127.0.0.1:" + testenv.FreePort(t) + "/0", // nothing listens there
		}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := Open(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := app.Bus.Ping(context.Background()); err == nil {
		t.Fatal("ping of a Redis that does not listen succeeded")
	}
	if got := out.String(); !strings.Contains(got, `"level":"DEBUG","msg":"redis: `) || !strings.Contains(got, "failed to dial") {
		t.Errorf("program log after a failed dial:\n%s\nwant go-redis's line at debug level", got)
	}
}
