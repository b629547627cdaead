// Command server runs the whole system in one process: the HTTP API, the
// WebSocket hub, the relay, the projectors and the sagas.
//
//	server               serve until SIGINT or SIGTERM
//	server -healthcheck  exit 0 when the local server answers /healthz (for container health checks)
package main

import (
	"context"
	"fmt"
	"os"

	_ "time/tzdata" // schedules name IANA zones; the image has no zoneinfo
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
