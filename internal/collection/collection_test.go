package collection

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/nephoran/o2ims/internal/query"
)

// docStore serves fixed documents, ignoring the filter.
type docStore []json.RawMessage

func (s docStore) List(_ context.Context, _ *query.Schema, _ query.Filter, limit int, _ string) ([]json.RawMessage, string, bool, error) {
	if len(s) > limit {
		return s[:limit], "x", true, nil
	}
	return s, "", false, nil
}

// TestEncodedPage checks that a page encoded from the stored bytes
// decodes to the same objects as the page of decoded Items, for each
// selection, and that the marker is kept.
func TestEncodedPage(t *testing.T) {
	sc := &query.Schema{Name: "things", DocColumn: "doc", Attrs: []query.Attr{
		{Name: "id", Type: query.String, Column: "id"},
		{Name: "description", Type: query.String, Always: true},
		{Name: "tags", Type: query.String, List: true, Complex: true},
		{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
	}}
	store := docStore{
		json.RawMessage(`{"id":"a","tags":["x"],"extensions":{"k": [1, 2]},"other":{"z":1,"a":2}}`),
		json.RawMessage(`{"id": "b", "description": "b <&>"}`),
		json.RawMessage(`{"id":"c","extensions":{}}`),
	}
	two := 2
	for _, req := range []Request{
		{}, {AllFields: true}, {ExcludeDefault: true}, {Fields: "extensions/k"}, {ExcludeFields: "tags"},
		{Fields: "extensions", ExcludeDefault: true}, {Limit: &two},
	} {
		plain, err := List(context.Background(), store, sc, req, Options{Stored: true})
		if err != nil {
			t.Fatal(err)
		}
		req.Encoded = true
		enc, err := List(context.Background(), store, sc, req, Options{Stored: true})
		if err != nil {
			t.Fatal(err)
		}
		if enc.NextMarker != plain.NextMarker {
			t.Errorf("%+v: marker %q, want %q", req, enc.NextMarker, plain.NextMarker)
		}
		got := enc.Items
		if enc.Encoded != nil {
			if enc.Items != nil || enc.Encoded[len(enc.Encoded)-1] != '\n' {
				t.Errorf("%+v: Items and Encoded", req)
			}
			if err := json.Unmarshal(enc.Encoded, &got); err != nil {
				t.Fatalf("%+v: %s: %v", req, enc.Encoded, err)
			}
		}
		want, _ := json.Marshal(plain.Items)
		var w []map[string]any
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%+v:\n got %v\nwant %v", req, got, w)
		}
	}
	// Without Stored the request is answered with Items.
	p, err := List(context.Background(), store, sc, Request{Encoded: true}, Options{})
	if err != nil || p.Encoded != nil || len(p.Items) != 3 {
		t.Errorf("without Stored: %v %s %v", p.Items, p.Encoded, err)
	}
}
