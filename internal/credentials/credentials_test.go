package credentials_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/credentials"
	"github.com/acme/employee-tracking/internal/testdb"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	creds := credentials.New(pool)
	var ended []string
	creds.OnSessionsEnded(func(ids []string) { ended = append(ended, ids...) })
	const user = "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"

	if err := creds.Claim(ctx, user, "ayse@example.com", []byte("h1")); err != nil {
		t.Fatal(err)
	}
	if err := creds.Claim(ctx, "1b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", "AYSE@example.com", []byte("h2")); !errors.Is(err, command.ErrEmailTaken) {
		t.Errorf("claim of a taken email in other case = %v, want ErrEmailTaken", err)
	}
	claimed, err := creds.ClaimAll(ctx, []command.Claim{
		{UserID: "4b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Email: "Ayse@example.com", Hash: []byte("h4")},
		{UserID: "5b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Email: "mehmet@example.com"},
		{UserID: "6b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Email: "MEHMET@example.com"},
	})
	if err != nil || !slices.Equal(claimed, []bool{false, true, false}) {
		t.Errorf("ClaimAll = %v, %v; want only the first mehmet@example.com claimed", claimed, err)
	}
	taken, err := creds.Taken(ctx, []string{"AYSE@example.com", "nobody@example.com"})
	if err != nil || len(taken) != 1 || !taken["ayse@example.com"] {
		t.Errorf("Taken = %v, %v; want ayse@example.com alone, lower-cased", taken, err)
	}
	id, hash, ok, err := creds.Lookup(ctx, "Ayse@Example.com")
	if err != nil || !ok || id != user || string(hash) != "h1" {
		t.Errorf("Lookup = %q, %q, %v, %v; want the claim", id, hash, ok, err)
	}

	const session = "2b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"
	if _, err := pool.Exec(ctx, `INSERT INTO sessions (session_id, user_id, refresh_id, created_at, expires_at)
		VALUES ($1, $2, gen_random_uuid(), now(), now() + interval '1 hour')`, session, user); err != nil {
		t.Fatal(err)
	}
	old, err := creds.Replace(ctx, user, []byte("h3"))
	if err != nil || string(old) != "h1" {
		t.Fatalf("Replace = %q, %v; want the old hash h1", old, err)
	}
	if !slices.Equal(ended, []string{session}) {
		t.Errorf("sessions ended by the change = %v, want [%s]", ended, session)
	}
	if err := creds.Restore(ctx, user, old, []byte("h3")); err != nil {
		t.Fatal(err)
	}
	if _, hash, _, _ := creds.Lookup(ctx, "ayse@example.com"); string(hash) != "h1" {
		t.Errorf("hash after Restore = %q, want h1", hash)
	}
	if _, err := creds.Replace(ctx, "3b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", []byte("h")); !errors.Is(err, employee.ErrNotFound) {
		t.Errorf("Replace for a user without credentials = %v, want employee.ErrNotFound", err)
	}
	if err := creds.Release(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := creds.Lookup(ctx, "ayse@example.com"); ok || err != nil {
		t.Errorf("Lookup after Release = %v, %v; want unknown", ok, err)
	}
}
