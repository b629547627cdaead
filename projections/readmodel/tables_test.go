package readmodel

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/internal/testdb"
)

// A batch reads its rows one key at a time through the primary key, however
// many keys it asks for and however large the table, whether or not the
// table has statistics yet: a scan of the table grew with it, for every
// batch.
func TestBatchReadsItsRowsThroughTheKey(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	// 100 employees' 200 days, never analyzed, as a table filling up.
	if _, err := pool.Exec(ctx, `INSERT INTO attendance_days (employee_id, date, check_in, worked_minutes, late_minutes, workday, status)
		SELECT md5(e::text)::uuid, date '2024-01-01' + d, now(), 0, 0, true, 'present'
		FROM generate_series(1, 100) AS e, generate_series(1, 200) AS d`); err != nil {
		t.Fatal(err)
	}
	var keys []dayKey
	rows, err := pool.Query(ctx, `SELECT employee_id, date FROM attendance_days ORDER BY date, employee_id LIMIT 1000`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k dayKey
		var id uuid.UUID
		var d pgtype.Date
		if err := rows.Scan(&id, &d); err != nil {
			t.Fatal(err)
		}
		k.EmployeeID, k.Date = id.String(), DateOf(d)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{50, 1000} {
		var plan string
		if err := pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+attendanceTable.selectKeysSQL, attendanceTable.keyColumns(keys[:n])...).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, `"Seq Scan"`) {
			t.Errorf("reading %d keys of a table of 20,000 rows scans it:\n%s", n, plan)
		}
	}
}

// A column's values go as a slice of their own type where pgx encodes it
// directly, uuids as 16 bytes; anything else as they were, for pgx to
// encode one by one (and Postgres to parse, for a uuid only it accepts).
func TestColumnArrayTypesWhatPgxEncodesDirectly(t *testing.T) {
	id := uuid.MustParse("0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41")
	for _, c := range []struct {
		name string
		typ  string
		vals []any
		want any
	}{
		{"uuids, any case", "uuid", []any{id.String(), strings.ToUpper(id.String())}, [][16]byte{id, id}},
		{"a uuid only Postgres reads", "uuid", []any{id.String(), "0b8f-5d1e-7c1a-4a53-9a8e-3f1f-0c2d-9e41"}, nil},
		{"a NULL uuid", "uuid", []any{id.String(), nil}, nil},
		{"texts", "text", []any{"a", "b"}, []string{"a", "b"}},
		{"integers", "integer", []any{int32(1), int32(2)}, []int32{1, 2}},
		{"a NULL integer", "integer", []any{int32(1), nil}, nil},
		{"mixed", "text", []any{"a", 1}, nil},
		{"none", "text", []any{}, nil},
	} {
		got := columnArray(c.typ, c.vals)
		want := c.want
		if want == nil { // left as it was
			want = c.vals
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: columnArray(%s, %#v) = %#v, want %#v", c.name, c.typ, c.vals, got, want)
		}
	}
}

// A rebuild's COPY gets a uuid column's value as 16 bytes, a missing one as
// NULL; anything uuid.Parse refuses as it was, for pgx to encode or refuse.
func TestCopyUUIDGivesCopyBytes(t *testing.T) {
	id := uuid.MustParse("0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41")
	upper, none := strings.ToUpper(id.String()), (*string)(nil)
	for _, c := range []struct {
		name string
		v    any
		want any
	}{
		{"a string", id.String(), [16]byte(id)},
		{"upper case", upper, [16]byte(id)},
		{"a pointer", &upper, [16]byte(id)},
		{"a nil pointer", none, nil},
		{"a uuid only Postgres reads", "0b8f-5d1e-7c1a-4a53-9a8e-3f1f-0c2d-9e41", "0b8f-5d1e-7c1a-4a53-9a8e-3f1f-0c2d-9e41"},
		{"nil", nil, nil},
	} {
		if got := copyUUID(c.v); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: copyUUID(%#v) = %#v, want %#v", c.name, c.v, got, c.want)
		}
	}
}
