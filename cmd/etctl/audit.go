package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/audit"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/config"
)

func init() {
	commands["audit"] = command{
		summary: "the audit chain: export -from-seq N -to-seq M -o pack.json; verify -pack pack.json (no database); verify -from-seq N -to-seq M (the store); seal (now, unless a server or worker is sealing)",
		run:     auditCommand,
	}
}

var errAuditUsage = errors.New("usage: etctl audit export [-from-seq N] [-to-seq M] -o pack.json | etctl audit verify [-pack pack.json | -from-seq N -to-seq M] | etctl audit seal")

func auditCommand(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	if len(args) == 0 {
		return errAuditUsage
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdout)
	from := fs.Int64("from-seq", 1, "first seal")
	to := fs.Int64("to-seq", 0, "last seal (0: the last)")
	switch args[0] {
	case "seal":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		pool, _, _, err := openStore(ctx, getenv)
		if err != nil {
			return err
		}
		defer pool.Close()
		cfg, err := config.Load(getenv)
		if err != nil {
			return err
		}
		n, err := seal.NewSealer(pool, cfg.SealInterval, slog.New(slog.NewTextHandler(os.Stderr, nil))).CatchUp(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sealed %d events\n", n)
		return nil
	case "export":
		out := fs.String("o", "", "the pack's file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" || *from < 1 || *to < 0 {
			return errAuditUsage
		}
		return exportPack(ctx, getenv, stdout, *from, *to, *out)
	case "verify":
		pack := fs.String("pack", "", "a pack made by audit export: checked with no database")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *pack != "" {
			b, err := os.ReadFile(*pack)
			if err != nil {
				return err
			}
			r, err := audit.CheckPack(b)
			if err != nil {
				return err
			}
			return report(stdout, r)
		}
		if *from < 1 || *to < 0 {
			return errAuditUsage
		}
		pool, _, _, err := openStore(ctx, getenv)
		if err != nil {
			return err
		}
		defer pool.Close()
		r, err := seal.New(pool).Verify(ctx, *from, *to)
		if err != nil {
			return err
		}
		return report(stdout, r)
	}
	return errAuditUsage
}

// exportPack writes the pack to a file beside path and renames it into
// place: a pack is never left half written under its name.
func exportPack(ctx context.Context, getenv func(string) string, stdout io.Writer, from, to int64, path string) error {
	pool, _, _, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	return writePack(ctx, pool, stdout, from, to, path)
}

// writePack writes the pack of seals from to to (0: the last) of pool's
// database to path.
func writePack(ctx context.Context, pool *pgxpool.Pool, stdout io.Writer, from, to int64, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".pack-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	seals, events, err := seal.New(pool).Export(ctx, from, to, f)
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d seals and %d events to %s\n", seals, events, path)
	return nil
}

// report prints the outcome; a failed check is an error (exit status 1).
func report(stdout io.Writer, r audit.Result) error {
	if r.Failure != nil {
		return fmt.Errorf("audit verify: %w", r.Failure)
	}
	fmt.Fprintf(stdout, "ok: %d seals, %d events\n", r.Seals, r.Events)
	return nil
}
