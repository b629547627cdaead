// Package eventcodec builds the event store's codec of the domain's events:
// every event type of domain/catalog with every upcaster of their older
// schema versions, checked complete. Every program and test that reads domain
// events takes its codec from New, so none reads an old event without the
// upcasters that bring it to the current version.
package eventcodec

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/catalog"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/keyring"
)

// New returns the codec of the catalog's events and upcasters. It fails when
// an event's schema version has risen without the upcaster of the version it
// left.
func New() (*eventstore.Codec, error) { return build(catalog.Events(), catalog.Upcasters()) }

// Open returns the catalog's codec sealing personal fields with the keyring
// of pool's database under dataKey (DATA_KEY), or, when dataKey is nil, under
// the data key kept in the database, which stored then reports.
func Open(ctx context.Context, pool *pgxpool.Pool, dataKey []byte) (codec *eventstore.Codec, keys *keyring.Keyring, stored bool, err error) {
	codec, err = New()
	if err != nil {
		return nil, nil, false, err
	}
	keys, stored, err = keyring.OpenWith(ctx, pool, dataKey)
	if err != nil {
		return nil, nil, false, err
	}
	codec.UseKeys(keys)
	return codec, keys, stored, nil
}

// build registers events and upcasters; an upcaster of an unknown event or
// version, or a second one for a step, is a programming error and panics.
func build(events []any, upcasters []catalog.Upcaster) (*eventstore.Codec, error) {
	codec, err := eventstore.NewCodec(events...)
	if err != nil {
		return nil, err
	}
	for _, u := range upcasters {
		codec.RegisterUpcaster(u.Event, u.From, u.Up)
	}
	if err := codec.CheckUpcasters(); err != nil {
		return nil, err
	}
	return codec, nil
}
