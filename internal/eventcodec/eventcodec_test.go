package eventcodec

import (
	"testing"

	"github.com/acme/employee-tracking/domain/catalog"
)

// TestNew: the catalog's codec starts, so every event whose schema version
// has risen has the upcasters of the versions it left, and knows every event
// of the catalog.
func TestNew(t *testing.T) {
	t.Parallel()
	codec, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range catalog.Events() {
		e := ev.(catalog.Event)
		if _, _, _, err := codec.Encode(e); err != nil {
			t.Errorf("%s: %v", e.EventName(), err)
		}
	}
}
