package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// A subscriber stopped by its context is no error in the program's log; any
// other failure still is.
func TestWatermillLoggerQuietOnShutdown(t *testing.T) {
	var buf bytes.Buffer
	logger := watermillLogger(slog.New(slog.NewTextHandler(&buf, nil))).With(watermill.LogFields{"topic": "t"})
	logger.Error("read fail", fmt.Errorf("xread: %w", context.Canceled), nil)
	if buf.Len() != 0 {
		t.Fatalf("a read cut short by shutdown was logged at info or above: %s", buf.String())
	}
	logger.Error("read fail", errors.New("connection refused"), nil)
	if got := buf.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "connection refused") || !strings.Contains(got, "topic=t") {
		t.Fatalf("a real failure was not logged as an error: %q", got)
	}
}
