package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/audit"
)

type sealJSON struct {
	Seq          int64  `json:"seq"`
	FromPosition int64  `json:"from_position"`
	ToPosition   int64  `json:"to_position"`
	Count        int    `json:"count"`
	Root         string `json:"root"`
	PrevHash     string `json:"prev_hash"`
	Hash         string `json:"hash"`
	SealedAt     string `json:"sealed_at"`
}

type verifyJSON struct {
	OK       bool   `json:"ok"`
	Seals    int    `json:"seals"`
	Events   int    `json:"events"`
	Seal     int64  `json:"seal"`
	Position *int64 `json:"position"`
	Reason   string `json:"reason"`
}

type proofJSON struct {
	Event struct {
		Position   int64  `json:"position"`
		StreamID   string `json:"stream_id"`
		Version    int64  `json:"version"`
		Type       string `json:"type"`
		Data       string `json:"data"`
		Metadata   string `json:"metadata"`
		RecordedAt string `json:"recorded_at"`
	} `json:"event"`
	Hash  string   `json:"hash"`
	Seal  sealJSON `json:"seal"`
	Index int      `json:"index"`
	Path  []struct {
		Side string `json:"side"`
		Hash string `json:"hash"`
	} `json:"path"`
	Valid bool `json:"valid"`
}

func hash(t *testing.T, s string) audit.Hash {
	t.Helper()
	var h audit.Hash
	if err := h.UnmarshalText([]byte(s)); err != nil {
		t.Fatalf("hash %q: %v", s, err)
	}
	return h
}

// TestAuditSealsVerifyAndProofs: the server seals what it appends; the seals
// list pages and links; every event's proof leads, recomputed here from the
// answer alone, to its seal's root; verify is ok until an event is changed
// behind the store's back, then names it. Auditors and admins only.
func TestAuditSealsVerifyAndProofs(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"SEAL_INTERVAL": "20ms"})
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	for range 30 {
		a.register(mgr, "employee", map[string]any{"manager_id": mgr.ID})
	}
	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var stored int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}

	var seals []sealJSON
	eventually(t, "every event sealed", func() bool {
		seals = nil
		after := ""
		for {
			var page struct {
				Items     []sealJSON `json:"items"`
				NextAfter *string    `json:"next_after"`
			}
			a.must(http.StatusOK, "GET", "/api/audit/seals/?limit=2"+after, auditor.token, nil, &page)
			seals = append(seals, page.Items...)
			if page.NextAfter == nil {
				break
			}
			after = "&after=" + *page.NextAfter
		}
		sealed := 0
		for _, s := range seals {
			sealed += s.Count
		}
		return sealed == stored
	})
	for i, s := range seals {
		if s.Seq != int64(i+1) || (i > 0 && s.PrevHash != seals[i-1].Hash) || s.FromPosition > s.ToPosition {
			t.Fatalf("seal %d of the list: %+v, does not follow %+v", i, s, seals[max(i-1, 0)])
		}
	}

	metrics := string(a.must(http.StatusOK, "GET", "/metrics", "", nil, nil).body)
	if want := fmt.Sprintf("et_seal_last_seq %d\n", len(seals)); !strings.Contains(metrics, want) || !strings.Contains(metrics, "et_seal_lag_seconds ") {
		t.Errorf("/metrics does not say %q and the chain's lag", want)
	}

	var ok verifyJSON
	for _, u := range []user{auditor, admin} {
		a.must(http.StatusOK, "GET", "/api/audit/verify/", u.token, nil, &ok)
		if !ok.OK || ok.Seals != len(seals) || ok.Events != stored {
			t.Fatalf("verify as %s: got %+v, want ok over %d seals and %d events", u.Role, ok, len(seals), stored)
		}
	}

	rows, err := pool.Query(context.Background(), `SELECT position FROM events ORDER BY tx_id, position`)
	if err != nil {
		t.Fatal(err)
	}
	var positions []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		positions = append(positions, p)
	}
	for _, p := range positions {
		var proof proofJSON
		a.must(http.StatusOK, "GET", fmt.Sprintf("/api/events/%d/proof/", p), admin.token, nil, &proof)
		e := proof.Event
		leaf := audit.Record{Position: e.Position, StreamID: e.StreamID, Version: e.Version, Type: e.Type, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt}.Hash()
		if e.Position != p || leaf != hash(t, proof.Hash) {
			t.Fatalf("position %d: the proof's hash %s is not the hash of its event %+v", p, proof.Hash, e)
		}
		path := make([]audit.Step, len(proof.Path))
		for i, s := range proof.Path {
			path[i] = audit.Step{Left: s.Side == "left", Hash: hash(t, s.Hash)}
		}
		if got := audit.RootOfPath(leaf, path); !proof.Valid || hex.EncodeToString(got[:]) != seals[proof.Seal.Seq-1].Root {
			t.Fatalf("position %d: the path leads to %s, want seal %d's root %s", p, got, proof.Seal.Seq, seals[proof.Seal.Seq-1].Root)
		}
	}

	// Roles, and what is not one.
	for _, path := range []string{"/api/audit/seals/", "/api/audit/verify/", fmt.Sprintf("/api/events/%d/proof/", positions[0])} {
		for _, c := range []struct {
			u    user
			want int
		}{{user{}, http.StatusUnauthorized}, {emp, http.StatusForbidden}, {mgr, http.StatusForbidden}, {auditor, http.StatusOK}, {admin, http.StatusOK}} {
			if got := a.call("GET", path, c.u.token, nil); got.status != c.want {
				t.Errorf("GET %s as %q = %s, want %d", path, c.u.Role, got, c.want)
			}
		}
	}
	for _, q := range []string{
		"/api/audit/seals/?after=x", "/api/audit/seals/?after=-1", "/api/audit/seals/?limit=0", "/api/audit/seals/?limit=501",
		"/api/audit/verify/?from_seq=0", "/api/audit/verify/?from_seq=x", "/api/audit/verify/?to_seq=%00",
		"/api/audit/verify/?from_seq=3&to_seq=2", "/api/audit/verify/?to_seq=99999999999999999999",
	} {
		if got := a.call("GET", q, auditor.token, nil); got.status != http.StatusBadRequest {
			t.Errorf("GET %s = %s, want 400", q, got)
		} else {
			decodeProblem(t, got)
		}
	}
	for _, p := range []string{"x", "0", "-1", "1.5", "99999999999999999999", fmt.Sprint(positions[len(positions)-1] + 1000)} {
		if got := a.call("GET", "/api/events/"+p+"/proof/", auditor.token, nil); got.status != http.StatusNotFound {
			t.Errorf("proof of position %s = %s, want 404", p, got)
		}
	}

	// An event changed behind the store's back.
	changed := positions[len(positions)/2]
	for _, s := range []string{
		`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`,
		fmt.Sprintf(`UPDATE events SET data = data || '{"full_name": "Someone Else"}' WHERE position = %d`, changed),
		`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	var bad verifyJSON
	a.must(http.StatusOK, "GET", "/api/audit/verify/", auditor.token, nil, &bad)
	var wantSeal int64
	if err := pool.QueryRow(context.Background(), `SELECT seq FROM seals WHERE $1 = ANY (positions)`, changed).Scan(&wantSeal); err != nil {
		t.Fatal(err)
	}
	if bad.OK || bad.Position == nil || *bad.Position != changed || bad.Seal != wantSeal || bad.Reason == "" {
		t.Fatalf("verify after a change: got %+v, want position %d of seal %d named", bad, changed, wantSeal)
	}
	var before verifyJSON
	if wantSeal > 1 {
		a.must(http.StatusOK, "GET", fmt.Sprintf("/api/audit/verify/?to_seq=%d", wantSeal-1), auditor.token, nil, &before)
		if !before.OK {
			t.Errorf("the seals before the change: got %+v, want ok", before)
		}
	}
	var proof proofJSON
	a.must(http.StatusOK, "GET", fmt.Sprintf("/api/events/%d/proof/", changed), auditor.token, nil, &proof)
	if proof.Valid {
		t.Errorf("the changed event's proof is valid")
	}
}
