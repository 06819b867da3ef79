package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// BenchmarkGetObject is one single-object GET through the whole handler
// (routing, parameter binding, the store read, the selectors, encoding),
// on SQLite.
func BenchmarkGetObject(b *testing.B) {
	e := newEnv(b, sqlstoretest.Backends()[0])
	for name, target := range map[string]string{
		"resource":                 inv + "/resourcePools/" + poolA + "/resources/" + resID(0),
		"resource fields=ext/path": inv + "/resourcePools/" + poolA + "/resources/" + resID(0) + "?fields=extensions/sizeGB",
		"resource type all_fields": inv + "/resourceTypes/" + typeS + "?all_fields",
		"o-cloud":                  inv,
	} {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", target, rec.Code, rec.Body.Bytes())
				}
			}
		})
	}
}
