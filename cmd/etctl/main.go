// Command etctl administers the system.
//
//	etctl <command> [flags]
//
// Run etctl without arguments for the list of commands. Settings come from the
// same environment variables as the server (see .env.example).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	_ "time/tzdata" // schedules name IANA zones
)

// command is one etctl subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error
}

// commands is the table of subcommands; each file adds its own in an init.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "etctl:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: etctl <command> [flags]")

func run(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	if len(args) == 0 {
		usage(stdout)
		return errUsage
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stdout)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, getenv, stdout, args[1:])
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
}
