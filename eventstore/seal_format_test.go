package eventstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
)

// sealByMaps is sealPersonal as it was first written, through a map of the
// event's fields: the stored format that sealing keeps, byte for byte.
func sealByMaps(keys Keys, name string, pf personalFields, data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	str := func(name string) string {
		var s string
		if json.Unmarshal(fields[name], &s) != nil {
			return ""
		}
		return s
	}
	group := func(key, subject string, aad []byte, names []string) error {
		personal := map[string]json.RawMessage{}
		for _, f := range names {
			personal[f] = fields[f]
			delete(fields, f)
		}
		plain, err := json.Marshal(personal)
		if err != nil {
			return err
		}
		sealed, err := keys.Seal(subject, aad, plain)
		switch {
		case errors.Is(err, ErrErased):
			fields[key] = json.RawMessage("null")
		case err != nil:
			return err
		default:
			fields[key], _ = json.Marshal(base64.StdEncoding.EncodeToString(sealed))
		}
		return nil
	}
	if len(pf.fields) > 0 {
		subject := str(pf.subject)
		if subject == "" {
			return nil, errors.New("no subject")
		}
		if err := group(personalKey, subject, appendPersonalAAD(nil, subject, name, ""), pf.fields); err != nil {
			return nil, err
		}
	}
	for _, o := range pf.others {
		if subject := str(o.subject); subject != "" {
			if err := group(o.key(), subject, appendPersonalAAD(nil, subject, name, o.subject), o.fields); err != nil {
				return nil, err
			}
			continue
		}
		for _, f := range o.fields {
			if v, ok := fields[f]; ok && !isEmptyJSON(v) {
				return nil, errors.New("personal data of nobody")
			}
			delete(fields, f)
		}
	}
	return json.Marshal(fields)
}

// clearKeys "seal" by prefixing the AAD, so that what is sealed can be
// compared byte for byte; the subject "gone" is erased.
type clearKeys struct{}

func (clearKeys) Seal(subject string, aad, plaintext []byte) ([]byte, error) {
	if subject == "gone" {
		return nil, ErrErased
	}
	return append(append(bytes.Clone(aad), ':'), plaintext...), nil
}

func (clearKeys) Open(subject string, aad, sealed []byte) ([]byte, error) {
	if subject == "gone" {
		return nil, ErrErased
	}
	plain, ok := bytes.CutPrefix(sealed, append(bytes.Clone(aad), ':'))
	if !ok {
		return nil, errors.New("wrong subject or event")
	}
	return plain, nil
}

// sealFormatFields: the subject "employee_id", the personal fields "name",
// "note" and "data", and "by_name" of the person whose id is "by".
var sealFormatFields = personalFields{
	subject: "employee_id",
	fields:  []string{"name", "note", "data"},
	others:  []otherPerson{{subject: "by", fields: []string{"by_name"}}},
}

// sealFormatObjects are events' JSON as json.Marshal and jsonb write it,
// and as no encoder writes it.
var sealFormatObjects = []string{
	`{"employee_id":"e1","name":"Ayşe Yılmaz","note":"late","data":{"late_minutes":17},"days":2}`,
	`{"employee_id":"e1"}`,
	`{"employee_id":"e1","name":null,"note":"","data":null,"by":"","by_name":""}`,
	`{"employee_id":"e1","name":"Ayşe <b>&</b>","note":"quote \" slash \\ \u00e9 \n tab\t \u2028\u2029"}`,
	`{"employee_id": "e\u0031", "name": "x", "data": {"y": [1, 2, {"z": null}], "x": "s <"}, "c": true}`,
	`{"employee_id":"e1","name":"a","by":"m2","by_name":"Mehmet Demir","note":"n"}`,
	`{"employee_id":"gone","name":"a","by":"gone","by_name":"x"}`,
	`{"employee_id":"e1","by":"m2"}`,
	`{"employee_id":"e1","name":"a","name":"b","n\u0061me":"c","<k>":1,"ké":"\ud83d\ude00","a\"b":[]}`,
	"{\n\t\"employee_id\" : \"e1\" ,\r\n \"note\":\"x\"\n, \"data\": [ {} , [] ]}",
	`{"employee_id":"e1","data":{"employee_name":"Ayşe","msg":"emoji 😀 and \u00e9"},"n":-1.5e+10}`,
}

// TestSealKeepsTheStoredFormat: sealing writes what it wrote through maps,
// so that events sealed before and after read alike.
func TestSealKeepsTheStoredFormat(t *testing.T) {
	for _, data := range sealFormatObjects {
		checkSealFormat(t, []byte(data))
	}
}

func FuzzSealKeepsTheStoredFormat(f *testing.F) {
	for _, data := range sealFormatObjects {
		f.Add([]byte(data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var object map[string]json.RawMessage
		if json.Unmarshal(data, &object) != nil {
			return // not an object: no encoder writes it
		}
		checkSealFormat(t, data)
	})
}

func checkSealFormat(t *testing.T, data []byte) {
	t.Helper()
	c := &Codec{keys: clearKeys{}}
	want, wantErr := sealByMaps(clearKeys{}, "test.format", sealFormatFields, data)
	got, err := c.sealPersonal("test.format", sealFormatFields, data)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("seal %s: error %v, through maps %v", data, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("seal %s:\n got %s\nwant %s", data, got, want)
	}
}
