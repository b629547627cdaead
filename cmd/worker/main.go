// Command worker runs the relay, the projectors, the sagas and the daily
// sweep without the API, for scaling out beside cmd/server instances. It
// serves /healthz, /readyz and /metrics on WORKER_HTTP_ADDR (default :8001).
//
//	worker               run until SIGINT or SIGTERM
//	worker -healthcheck  exit 0 when the local worker answers /healthz (for container health checks)
package main

import (
	"context"
	"fmt"
	"os"

	_ "time/tzdata" // schedules name IANA zones; the image has no zoneinfo
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}
