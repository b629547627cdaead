package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	appcommand "github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/internal/config"
)

func init() {
	commands["create-admin"] = command{
		summary: "register an admin: -email, -name; the password comes from ADMIN_PASSWORD or -password",
		run:     createAdmin,
	}
}

func createAdmin(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", getenv("ADMIN_EMAIL"), "email of the admin (default ADMIN_EMAIL)")
	name := fs.String("name", "Administrator", "full name")
	password := fs.String("password", "", "password (default ADMIN_PASSWORD; the flag shows in process lists)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = getenv("ADMIN_PASSWORD")
	}
	if *email == "" || *password == "" {
		return errors.New("create-admin: -email (or ADMIN_EMAIL) and a password (ADMIN_PASSWORD or -password) are required")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	pool, store, keys, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	application, _ := startup.Application(cfg, pool, store, keys, time.Now)
	admin, err := application.Commands.CreateAdmin.Handle(ctx, appcommand.CreateAdmin{Email: *email, Password: *password, FullName: *name})
	if err != nil {
		return fmt.Errorf("create-admin: %w", err)
	}
	fmt.Fprintf(stdout, "created admin %s (%s)\n", admin.Email, admin.EmployeeID)
	return nil
}
