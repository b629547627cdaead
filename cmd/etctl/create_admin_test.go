package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	appcommand "github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testdb"
)

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t), "BCRYPT_COST": "4", "ADMIN_EMAIL": "boss@example.com", "ADMIN_PASSWORD": "a long password"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, getenv, &out, []string{"create-admin", "-email", "Boss@example.com", "-name", "The Boss"}); err != nil {
		t.Fatalf("create-admin = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "created admin Boss@example.com") {
		t.Errorf("output = %q, want it to name the admin", out.String())
	}
	err := run(ctx, getenv, &out, []string{"create-admin", "-email", "boss@EXAMPLE.com"})
	if !errors.Is(err, appcommand.ErrEmailTaken) {
		t.Errorf("second create-admin with the same email = %v, want ErrEmailTaken", err)
	}

	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	codec, keys, _, err := eventcodec.Open(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, codec)
	application, creds := startup.Application(cfg, pool, store, keys, time.Now)
	accounts := apihttp.NewAccounts(pool, creds, application.Queries.Employee, cfg.PasswordCost, time.Now)
	admin, err := accounts.Login(ctx, "127.0.0.1", "boss@example.com", "a long password")
	if err != nil {
		t.Fatalf("log in as the new admin: %v", err)
	}
	history, err := store.Load(ctx, employee.Stream(admin.EmployeeID))
	if err != nil || len(history) != 1 {
		t.Fatalf("admin stream = %v, %v, want one registration", history, err)
	}
	if reg, ok := history[0].Payload.(employee.Registered); !ok || reg.Role != employee.RoleAdmin || reg.FullName != "The Boss" {
		t.Errorf("registration = %+v, want an admin named The Boss", history[0].Payload)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), func(string) string { return "" }, &out, []string{"frobnicate"}); err == nil {
		t.Error("unknown command = nil, want an error")
	}
	if !strings.Contains(out.String(), "create-admin") {
		t.Errorf("usage = %q, want the command list", out.String())
	}
}
