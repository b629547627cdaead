package bus

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// env is one test's bus, on streams of its own.
type env struct {
	t      *testing.T
	bus    *Bus
	prefix string
	redis  *redis.Client // nil on the memory bus
}

// newEnv gives the test a bus and, unless busURL is MemoryURL, Redis streams
// of its own (a random prefix, deleted at the end).
func newEnv(t *testing.T, busURL string) *env {
	t.Helper()
	e := &env{t: t, prefix: pipelinetest.Prefix()}
	if busURL != MemoryURL {
		e.redis = pipelinetest.Redis(t, busURL, e.prefix)
	}
	var err error
	e.bus, err = New(Settings{URL: busURL, Prefix: e.prefix, Partitions: 3, ClaimAfter: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.bus.Close() })
	return e
}
