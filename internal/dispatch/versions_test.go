package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
	"github.com/nephoran/o2ims/internal/subscription"
)

// A v1 and a v2 inventory subscriber of the same callback server, on the
// same changes, each get their own notifications: one per change of an
// object type its version has, with its version's URLs and shapes, from
// the one outbox.
func TestDeliveryInventoryVersions(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		h.notifier.WithShaper(inventory.NewService(store, inventory.CloudConfig{AlarmDictionary: &alarms.Dictionary}, h.logger))
		rcv := newReceiver(t, nil)
		v1 := h.subscribe(sqlstore.StreamInventory, rcv.url("/v1"), "")
		doc, err := h.svc.Create(context.Background(), subscription.InventoryV2, subscription.Input{Callback: rcv.url("/v2")})
		if err != nil {
			t.Fatal(err)
		}
		v2 := h.sub(sqlstore.Subscription{Stream: sqlstore.StreamInventory, ID: doc["subscriptionId"].(string)})
		if v2.APIMajor != 2 {
			t.Fatalf("v2 subscription stored with major %d", v2.APIMajor)
		}
		d := h.dispatcher(store, fast(prometheus.NewRegistry()))
		stop := run(t, d)

		// One location, a site there, a pool in the site: as the
		// syncer stores them, the pool with what v1 shows of its place.
		loc, _ := json.Marshal(ims.Location{GlobalLocationID: "loc-1", Name: "Berlin", Address: "Rack 4"})
		site, _ := json.Marshal(ims.OCloudSite{OCloudSiteID: "s-1", GlobalLocationID: "loc-1", Name: "ber-1"})
		pool, _ := json.Marshal(ims.ResourcePool{ResourcePoolID: "p-1", Name: "pool", OCloudSiteID: "s-1", OCloudID: "oc", GlobalLocationID: "loc-1", Location: "Rack 4"})
		apply(t, store, "src",
			sqlstore.ObjectSet{Schema: inventory.LocationSchema, Docs: []sqlstore.Doc{{ID: "loc-1", JSON: loc}}},
			sqlstore.ObjectSet{Schema: inventory.OCloudSiteSchema, Docs: []sqlstore.Doc{{ID: "s-1", JSON: site}}},
			pools(sqlstore.Doc{ID: "p-1", JSON: pool}))
		d.Wake()

		inv := events(t, store, sqlstore.StreamInventory, 0)
		if len(inv) != 3 {
			t.Fatalf("%d events, want 3 (one outbox entry per change)", len(inv))
		}
		waitFor(t, 20*time.Second, func() bool {
			return h.sub(v1).Cursor == inv[2].Seq && h.sub(v2).Cursor == inv[2].Seq
		}, func() string {
			return fmt.Sprintf("v1 got %v, v2 got %v", refs(rcv.requests("/v1")), refs(rcv.requests("/v2")))
		})
		stop()

		got1, got2 := rcv.accepted("/v1"), rcv.accepted("/v2")
		if len(got1) != 1 || got1[0].Ref != serviceURI+"/o2ims-infrastructureInventory/v1/resourcePools/p-1" {
			t.Fatalf("v1 subscriber: %v, want only the pool", refs(got1))
		}
		post1 := got1[0].Body["postObjectState"].(map[string]any)
		if post1["globalLocationId"] != "loc-1" || post1["location"] != "Rack 4" || post1["oCloudId"] != "oc" || post1["oCloudSiteId"] != nil {
			t.Errorf("v1 pool state %v", post1)
		}
		var got2Refs []string
		for _, n := range got2 {
			got2Refs = append(got2Refs, n.Ref)
		}
		want2 := []string{
			serviceURI + "/o2ims-infrastructureInventory/v2/locations/loc-1",
			serviceURI + "/o2ims-infrastructureInventory/v2/oCloudSites/s-1",
			serviceURI + "/o2ims-infrastructureInventory/v2/resourcePools/p-1",
		}
		if !slices.Equal(got2Refs, want2) {
			t.Fatalf("v2 subscriber got %v, want %v", got2Refs, want2)
		}
		locState := got2[0].Body["postObjectState"].(map[string]any)
		if sites, _ := locState["oCloudSiteIds"].([]any); len(sites) != 1 || sites[0] != "s-1" {
			t.Errorf("v2 location state %v: oCloudSiteIds derived from the sites at it", locState)
		}
		siteState := got2[1].Body["postObjectState"].(map[string]any)
		if ps, _ := siteState["resourcePools"].([]any); len(ps) != 1 || ps[0] != "p-1" {
			t.Errorf("v2 site state %v: resourcePools derived from its pools", siteState)
		}
		post2 := got2[2].Body["postObjectState"].(map[string]any)
		if post2["oCloudSiteId"] != "s-1" || post2["globalLocationId"] != nil || post2["location"] != nil || post2["oCloudId"] != nil {
			t.Errorf("v2 pool state %v", post2)
		}
		// The bodies are what Render makes for each subscriber.
		if err := sameNotes(got1, h.expected(v1, inv[2:])); err != nil {
			t.Errorf("v1: %v", err)
		}
		if err := sameNotes(got2, h.expected(v2, inv)); err != nil {
			t.Errorf("v2: %v", err)
		}
	})
}
