package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// getIf makes a GET with If-None-Match.
func (e *env) getIf(t *testing.T, target, etag string) response {
	t.Helper()
	return e.request(t, "GET", target, http.Header{"If-None-Match": {etag}}, nil)
}

// TestConditionalGet polls collections and objects the way the RAG
// feeds do: an unchanged answer is 304 without a body, a changed one 200
// with a new ETag.
func TestConditionalGet(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		for _, target := range []string{"/o2ims/v1/resourcePools", inv + "/resourcePools/" + poolA, "/o2ims/v1/deployments", inv + "/subscriptions"} {
			first := e.do(t, "GET", target)
			etag := first.header.Get("ETag")
			if first.status != 200 || len(etag) < 10 || first.header.Get("Cache-Control") != "private, no-cache" {
				t.Fatalf("GET %s: %d, ETag %q, Cache-Control %q", target, first.status, etag, first.header.Get("Cache-Control"))
			}
			if cl := first.header.Get("Content-Length"); cl != strconv.Itoa(len(first.body)) {
				t.Errorf("GET %s: Content-Length %q for %d bytes", target, cl, len(first.body))
			}
			if r := e.getIf(t, target, etag); r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != etag {
				t.Errorf("GET %s If-None-Match its ETag: %d %q", target, r.status, r.body)
			}
			if r := e.getIf(t, target, `"other", W/`+etag); r.status != 304 {
				t.Errorf("GET %s with the ETag in a list, weakly: %d", target, r.status)
			}
			if r := e.getIf(t, target, `"stale"`); r.status != 200 || string(r.body) != string(first.body) {
				t.Errorf("GET %s with a stale ETag: %d", target, r.status)
			}
		}
		// A change gives another ETag.
		before := e.do(t, "GET", inv+"/subscriptions").header.Get("ETag")
		if r := e.send(t, "POST", inv+"/subscriptions", "application/json", strings.NewReader(`{"callback":"http://127.0.0.1:9/cb"}`)); r.status != 201 {
			t.Fatalf("create subscription: %d %s", r.status, r.body)
		}
		if r := e.getIf(t, inv+"/subscriptions", before); r.status != 200 || r.header.Get("ETag") == before {
			t.Errorf("after a change: %d, ETag %q (was %q)", r.status, r.header.Get("ETag"), before)
		}
		// Problems are never 304.
		if r := e.getIf(t, inv+"/resourcePools/00000000-0000-4000-8000-000000000000", "*"); r.status != 404 {
			t.Errorf("unknown pool with If-None-Match *: %d", r.status)
		}
	})
}

// TestPerformanceReport reads /o2ims/v1/metrics: pools with the metadata
// feeds key on, and an ETag that ignores the request counters.
func TestPerformanceReport(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		r := e.do(t, "GET", "/o2ims/v1/metrics")
		if r.status != 200 {
			t.Fatalf("GET metrics: %d %s", r.status, r.body)
		}
		var doc struct {
			ResourcePools []struct {
				ResourcePoolID, Name, ResourceType, PerformanceProfile string
				Resources                                              int
			} `json:"resourcePools"`
			Deployments []any `json:"deployments"`
			API         struct {
				Requests float64 `json:"requests"`
			} `json:"api"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range doc.ResourcePools {
			got[p.Name] = fmt.Sprintf("%s/%d/%s", p.ResourceType, p.Resources, p.PerformanceProfile)
		}
		if got["my pool"] != "server/5/standard" || got["other"] != "disk/2/standard" || doc.Deployments == nil {
			t.Fatalf("pools %v, deployments %v", got, doc.Deployments)
		}
		// More requests, same pools: still 304.
		e.do(t, "GET", inv+"/resourceTypes")
		if again := e.getIf(t, "/o2ims/v1/metrics", r.header.Get("ETag")); again.status != 304 {
			t.Fatalf("unchanged report: %d", again.status)
		}
	})
}

// TestChangedSince follows the resource pools the way the RAG feed does:
// a full list gives a stamp; asked with it, the list holds only what
// changed, and tombstones for what was deleted.
func TestChangedSince(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		const pools = "/o2ims/v1/resourcePools"
		full := e.do(t, "GET", pools)
		s0 := full.header.Get("X-Change-Stamp")
		if full.status != 200 || s0 == "" || len(full.list(t)) != 2 {
			t.Fatalf("full list: %d, stamp %q, %s", full.status, s0, full.body)
		}
		if r := e.do(t, "GET", pools+"?changedSince="+s0); r.status != 200 || len(r.list(t)) != 0 || r.header.Get("X-Change-Stamp") != s0 {
			t.Fatalf("nothing changed: %d %s, stamp %q", r.status, r.body, r.header.Get("X-Change-Stamp"))
		}

		// Pool A changes, pool B goes.
		ctx := context.Background()
		err := e.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
			doc, _ := json.Marshal(map[string]any{"resourcePoolId": poolA, "name": "my pool, renamed", "description": "", "oCloudId": e.oCloudID, "globalLocationId": "", "location": "east"})
			if err := tx.Put(ctx, inventory.ResourcePoolSchema, poolA, doc); err != nil {
				return err
			}
			return tx.Delete(ctx, inventory.ResourcePoolSchema, poolB)
		})
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(t, "GET", pools+"?changedSince="+s0)
		items := r.list(t)
		if r.status != 200 || len(items) != 2 || items[0]["name"] != "my pool, renamed" || items[1]["resourcePoolId"] != poolB || items[1]["deleted"] != true {
			t.Fatalf("changes since s0: %d %s", r.status, r.body)
		}
		s1 := r.header.Get("X-Change-Stamp")
		if s1 == s0 {
			t.Fatal("the stamp did not move")
		}
		if r := e.do(t, "GET", pools+"?changedSince="+s1); len(r.list(t)) != 0 {
			t.Fatalf("changes since s1: %s", r.body)
		}
		// Filters apply to the changes too.
		if r := e.do(t, "GET", pools+"?changedSince="+s0+"&filter=(eq,location,west)"); len(r.list(t)) != 1 {
			t.Fatalf("filtered changes: %s (want only the tombstone)", r.body)
		}
		for _, bad := range []string{"garbage", "Yzk6MTI"} {
			if r := e.do(t, "GET", pools+"?changedSince="+bad); r.status != 400 || !strings.Contains(string(r.body), "not a change stamp") {
				t.Errorf("changedSince=%s: %d %s", bad, r.status, r.body)
			}
		}
		if r := e.do(t, "GET", "/o2ims/v1/deployments?changedSince="+s1); r.status != 200 || r.header.Get("X-Change-Stamp") == "" {
			t.Errorf("deployments feed: %d %s", r.status, r.body)
		}

		// Tombstones past the retention are pruned: a stamp from before the
		// pruned deletion is gone (410); a later one still works.
		if n, err := e.store.PruneTombstones(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("pruning fresh tombstones: %d, %v", n, err)
		}
		if r := e.do(t, "GET", pools+"?changedSince="+s0); r.status != 200 {
			t.Fatalf("before pruning: %d %s", r.status, r.body)
		}
		if n, err := e.store.PruneTombstones(ctx, -time.Second); err != nil || n != 1 {
			t.Fatalf("pruning every tombstone: %d, %v", n, err)
		}
		if r := e.do(t, "GET", pools+"?changedSince="+s0); r.status != 410 || !strings.Contains(string(r.body), "list again without changedSince") {
			t.Errorf("a stamp from before the pruned deletion: %d %s", r.status, r.body)
		}
		if r := e.do(t, "GET", pools+"?changedSince="+s1); r.status != 200 || len(r.list(t)) != 0 {
			t.Errorf("a stamp after the pruned deletion: %d %s", r.status, r.body)
		}
		// Other object types keep their own horizon.
		if r := e.do(t, "GET", "/o2ims/v1/deployments?changedSince="+s0); r.status != 200 {
			t.Errorf("deployments feed after pruning pools: %d %s", r.status, r.body)
		}
	})
}
