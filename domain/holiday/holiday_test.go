package holiday

import (
	"errors"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/google/go-cmp/cmp"
)

var (
	now     = time.Date(2024, time.January, 2, 9, 0, 0, 0, time.UTC)
	newYear = calendar.Date{Year: 2024, Month: time.January, Day: 1}
	may1    = calendar.Date{Year: 2024, Month: time.May, Day: 1}
)

func TestDecide(t *testing.T) {
	t.Parallel()
	declared := []any{Declared{Date: newYear, Name: "New Year's Day"}}
	tests := []struct {
		name      string
		history   []any
		cmd       Command
		want      []any
		wantErr   error
		wantField string
	}{
		{name: "declare", cmd: Declare{Date: may1, Name: " Labour Day "}, want: []any{Declared{Date: may1, Name: "Labour Day"}}},
		{name: "declare twice", history: declared, cmd: Declare{Date: newYear, Name: "Again"}, wantErr: ErrAlreadyDeclared},
		{name: "declare without name", cmd: Declare{Date: may1, Name: "  "}, wantField: "name"},
		{name: "declare without date", cmd: Declare{Name: "Someday"}, wantField: "date"},
		{name: "withdraw", history: declared, cmd: Withdraw{Date: newYear}, want: []any{Withdrawn{Date: newYear, Name: "New Year's Day"}}},
		{name: "withdraw unknown", history: declared, cmd: Withdraw{Date: may1}, wantErr: ErrNotDeclared},
		{name: "withdraw twice", history: append(declared, Withdrawn{Date: newYear}), cmd: Withdraw{Date: newYear}, wantErr: ErrNotDeclared},
		{name: "declare again after withdrawal", history: append(declared, Withdrawn{Date: newYear}), cmd: Declare{Date: newYear, Name: "Back"},
			want: []any{Declared{Date: newYear, Name: "Back"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decide(Replay(tt.history), tt.cmd, now)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
			case tt.wantField != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("got error %v, want a validation error on %q", err, tt.wantField)
				}
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHolidays(t *testing.T) {
	t.Parallel()
	c := Replay([]any{
		Declared{Date: newYear, Name: "New Year's Day"},
		Declared{Date: may1, Name: "Labour Day"},
		Withdrawn{Date: newYear, Name: "New Year's Day"},
	})
	got := c.Holidays()
	if diff := cmp.Diff(calendar.Holidays{may1: "Labour Day"}, got); diff != "" {
		t.Fatalf("holidays (-want +got):\n%s", diff)
	}
	got[newYear] = "mutated"
	if c.Holidays().Contains(newYear) {
		t.Error("Holidays() shares its map with the state")
	}
	if got := Stream(2024); got != "holidays-2024" {
		t.Errorf("Stream(2024) = %q", got)
	}
}
