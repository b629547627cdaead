package eventcodec

import (
	"encoding/json"
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
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		version := 1
		if v, ok := e.(interface{ SchemaVersion() int }); ok {
			version = v.SchemaVersion()
		}
		if _, err := codec.Decode(e.EventName(), version, data); err != nil {
			t.Errorf("%s: %v", e.EventName(), err)
		}
	}
}
