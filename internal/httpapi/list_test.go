package httpapi

import (
	"net/http/httptest"
	"testing"
)

// TestEncodedListWithTombstones checks that a feed's tombstones follow
// the items of an encoded page.
func TestEncodedListWithTombstones(t *testing.T) {
	for _, c := range []struct{ encoded, want string }{
		{"[{\"id\":\"a\"},{\"id\":\"b\"}]\n", "[{\"id\":\"a\"},{\"id\":\"b\"},{\"deleted\":true,\"id\":\"x\"}]\n"},
		{"[]\n", "[{\"deleted\":true,\"id\":\"x\"}]\n"},
	} {
		rec := httptest.NewRecorder()
		r := listResponse{encoded: []byte(c.encoded), items: []map[string]any{{"id": "x", "deleted": true}}}
		if err := r.write(rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.String(); got != c.want {
			t.Errorf("%q: got %q, want %q", c.encoded, got, c.want)
		}
	}
}
