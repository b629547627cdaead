package eventstore_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/acme/employee-tracking/eventstore"
)

// notice is shaped like a lateness notification: a message and data about
// its subject, sealed under their key, and a decider's name under theirs.
type notice struct {
	NotificationID string         `json:"notification_id" personal:"no"`
	RecipientID    string         `json:"recipient_id" personal:"no"`
	Type           string         `json:"type" personal:"no"`
	Message        string         `json:"message,omitempty" personal:"yes"`
	Data           map[string]any `json:"data" personal:"yes"`
	CauseEventID   string         `json:"cause_event_id" personal:"no"`
	RaisedAt       time.Time      `json:"raised_at"`
	SubjectID      string         `json:"subject_id,omitempty" personal:"subject"`
	DecidedBy      string         `json:"decided_by,omitempty" personal:"no"`
	DecidedByName  string         `json:"decided_by_name,omitempty" personal:"of:decided_by"`
}

func (notice) EventName() string { return "test.notice" }

func lateNotice() notice {
	at := time.Date(2026, 12, 7, 9, 17, 0, 0, time.UTC)
	return notice{
		NotificationID: "0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41", RecipientID: "manager-007", Type: "lateness",
		Message: "Ayşe Yılmaz 042 checked in 17 minutes late on 2026-12-07.",
		Data: map[string]any{"employee_id": "employee-042", "employee_name": "Ayşe Yılmaz 042", "date": "2026-12-07",
			"late_minutes": float64(17), "checked_in_at": at.Format(time.RFC3339)},
		CauseEventID: "5a0c9f1e-2b7d-4e8a-8c6f-1d2e3f4a5b6c", RaisedAt: at, SubjectID: "employee-042",
	}
}

// aesKeys seal with AES-GCM under a key per subject, held in memory, as the
// keyring does with the keys it has cached.
type aesKeys struct {
	keys   map[string]cipher.AEAD
	erased map[string]bool
}

func newAESKeys(tb testing.TB, subjects ...string) *aesKeys {
	tb.Helper()
	k := &aesKeys{keys: map[string]cipher.AEAD{}, erased: map[string]bool{}}
	for _, s := range subjects {
		block, err := aes.NewCipher([]byte(s + "0123456789abcdef0123456789abcdef")[:32])
		if err != nil {
			tb.Fatal(err)
		}
		if k.keys[s], err = cipher.NewGCM(block); err != nil {
			tb.Fatal(err)
		}
	}
	return k
}

func (k *aesKeys) aead(subject string) (cipher.AEAD, error) {
	if k.erased[subject] {
		return nil, eventstore.ErrErased
	}
	if a, ok := k.keys[subject]; ok {
		return a, nil
	}
	return nil, errors.New("no key")
}

func (k *aesKeys) Seal(subject string, aad, plaintext []byte) ([]byte, error) {
	a, err := k.aead(subject)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, plaintext, aad), nil
}

func (k *aesKeys) Open(subject string, aad, sealed []byte) ([]byte, error) {
	a, err := k.aead(subject)
	if err != nil {
		return nil, err
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
}

// BenchmarkDecodeEvent decodes a notification stored with its personal
// fields sealed, the same notification stored with them in plain text (as a
// store written before they were sealed holds it), and the sealed one once
// its subject is erased: reading a sealed event should cost about what
// reading a plain one does.
func BenchmarkDecodeEvent(b *testing.B) {
	keys := newAESKeys(b, "employee-042")
	c, err := eventstore.NewCodec(notice{})
	if err != nil {
		b.Fatal(err)
	}
	c.UseKeys(keys)
	plain, err := json.Marshal(lateNotice())
	if err != nil {
		b.Fatal(err)
	}
	name, version, sealed, err := c.Encode(lateNotice())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		data   []byte
		erased bool
	}{
		{"plain", plain, false},
		{"sealed", sealed, false},
		{"erased", sealed, true},
	} {
		keys.erased["employee-042"] = bc.erased
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e := eventstore.Event{Type: name, SchemaVersion: version, Data: bc.data}
				if err := c.DecodeEvent(&e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// plainNotice is notice with no field tagged personal, as events were
// encoded before their personal fields were sealed.
type plainNotice struct {
	NotificationID string         `json:"notification_id"`
	RecipientID    string         `json:"recipient_id"`
	Type           string         `json:"type"`
	Message        string         `json:"message,omitempty"`
	Data           map[string]any `json:"data"`
	CauseEventID   string         `json:"cause_event_id"`
	RaisedAt       time.Time      `json:"raised_at"`
	SubjectID      string         `json:"subject_id,omitempty"`
	DecidedBy      string         `json:"decided_by,omitempty"`
	DecidedByName  string         `json:"decided_by_name,omitempty"`
}

func (plainNotice) EventName() string { return "test.notice" }

// BenchmarkEncodeEvent encodes a notification with its personal fields
// sealed, and the same one untagged, stored in plain text: what sealing adds
// to each append of such an event.
func BenchmarkEncodeEvent(b *testing.B) {
	sealing, err := eventstore.NewCodec(notice{})
	if err != nil {
		b.Fatal(err)
	}
	sealing.UseKeys(newAESKeys(b, "employee-042"))
	plain, err := eventstore.NewCodec(plainNotice{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		codec   *eventstore.Codec
		payload eventstore.Payload
	}{
		{"plain", plain, plainNotice(lateNotice())},
		{"sealed", sealing, lateNotice()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := bc.codec.Encode(bc.payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
