package query

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestApplyRaw checks that ApplyRaw gives what encoding Apply's result
// gives, for every test document and the selections it handles, and
// that it declines the others.
func TestApplyRaw(t *testing.T) {
	selections := []struct {
		fields, exclude     string
		all, excludeDefault bool
		raw                 bool // ApplyRaw must handle it; otherwise it may decline
	}{
		{all: true, raw: true},
		{excludeDefault: true, raw: true},
		{fields: "elements", excludeDefault: true},
		{fields: "description", excludeDefault: true},
		{fields: "name"},
		{exclude: "tags"},
	}
	docs := map[string]string{"empty": `{}`, "jsonb": `{"id": "p", "extensions": {"a": [1, 2], "b": "x y"}}`, "spaces": " {\"id\" : \"s\" , \"tags\":[ \"a\" ]}\n", "escaped": `{"id":"x","name":"a\"b\\c<"}`}
	for id, d := range testDocs {
		docs[id] = d
	}
	for _, sl := range selections {
		sel, err := ParseSelection(&testSchema, sl.fields, sl.exclude, sl.all, sl.excludeDefault)
		if err != nil {
			t.Fatal(err)
		}
		for id, doc := range docs {
			var m map[string]any
			if err := json.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(sel.Apply(m)); err != nil {
				t.Fatal(err)
			}
			got, ok := sel.ApplyRaw([]byte(doc))
			if sl.raw && !ok && id != "escaped" {
				t.Errorf("%+v on %s: declined", sl, id)
			}
			if !ok {
				continue
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%+v on %s: %s: %v", sl, id, got, err)
			}
			_ = json.Unmarshal(want.Bytes(), &w)
			if !reflect.DeepEqual(g, w) || got[len(got)-1] != '\n' {
				t.Errorf("%+v on %s:\n got %s\nwant %s", sl, id, got, want.Bytes())
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"a":1,"a":2}`, `{"a\u0062":1}`, `{"a":}`, `{"a":"x}`, `{"a":1} x`, `{"a":1`, `{"a": [1,}`} {
		if _, ok := (Selection{}).ApplyRaw([]byte(bad)); ok {
			t.Errorf("ApplyRaw accepted %q", bad)
		}
	}
	// Flat documents come out byte for byte as encoding/json writes them,
	// those PostgreSQL wrote too.
	flat := `{"name": "n", "id":"i","region":"r s"}`
	got, _ := (Selection{}).ApplyRaw([]byte(flat))
	if string(got) != "{\"id\":\"i\",\"name\":\"n\",\"region\":\"r s\"}\n" {
		t.Errorf("flat: %q", got)
	}
}
