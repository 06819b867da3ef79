package o2_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// Inventory v2 on the real binary: the embedded default's places (the
// O-Cloud's default location and the host's site there), the places of
// the configuration file, the operator's own through the SDK, the same
// pools in both versions' shapes, and a v2 subscriber notified of the
// changes v1 has no object type for.
func TestInventoryV2Places(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "o2ims.yaml")
	err := os.WriteFile(cfg, []byte(`locations:
  - globalLocationId: cfg-paris
    name: Paris
    coordinate: {type: Point, coordinates: [2.35, 48.86]}
oCloudSites:
  - oCloudSiteId: 7b0c2a36-6d2c-4f4e-9d7a-2f1f3c1e9a01
    globalLocationId: cfg-paris
    name: paris-1
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + startServer(t, "--config", cfg, "--global-location-id", "berlin-lab", "--location", "Rack 4, Berlin")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v1, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := o2.NewClient(&o2.Config{Endpoint: endpoint, InventoryVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o2.NewClient(&o2.Config{Endpoint: endpoint, InventoryVersion: 3}); err == nil {
		t.Error("InventoryVersion 3 accepted")
	}

	versions, err := v1.APIVersions(ctx)
	if err != nil || len(versions.APIVersions) != 2 {
		t.Fatalf("api_versions: %+v, %v", versions, err)
	}

	// The host's pool: in v2 in its site, in v1 at the site's location.
	var pools1, pools2 []o2.ResourcePool
	waitFor(t, "local pool", func() bool {
		p1, err1 := v1.ResourcePools().List(ctx, o2.ListOptions{})
		p2, err2 := v2.ResourcePools().List(ctx, o2.ListOptions{})
		if err1 != nil || err2 != nil {
			t.Fatalf("pools: %v %v", err1, err2)
		}
		pools1, pools2 = p1.Items, p2.Items
		return len(pools1) == 1 && len(pools2) == 1
	})
	if p := pools1[0]; p.GlobalLocationID != "berlin-lab" || p.Location != "Rack 4, Berlin" || p.OCloudID == "" || p.OCloudSiteID != "" {
		t.Errorf("v1 pool %+v", p)
	}
	siteID := pools2[0].OCloudSiteID
	if p := pools2[0]; siteID == "" || p.OCloudID != "" || p.GlobalLocationID != "" || p.ResourcePoolID != pools1[0].ResourcePoolID {
		t.Errorf("v2 pool %+v", p)
	}
	site, err := v2.OCloudSites().Get(ctx, siteID)
	if err != nil || site.GlobalLocationID != "berlin-lab" || !slices.Contains(site.ResourcePools, pools2[0].ResourcePoolID) {
		t.Fatalf("the host's site: %+v, %v", site, err)
	}
	if info, err := v2.CloudInfo(ctx); err != nil || info.OCloudID == "" {
		t.Errorf("v2 CloudInfo: %+v, %v", info, err)
	}
	types, err := v2.ResourceTypes().List(ctx, o2.ListOptions{})
	if err != nil || len(types.Items) == 0 || types.Items[0].AlarmDictionaryID == "" {
		t.Errorf("v2 resource types name their dictionary: %+v, %v", types, err)
	}

	var locIDs []string
	for l, err := range v1.Locations().All(ctx, o2.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		locIDs = append(locIDs, l.GlobalLocationID)
	}
	slices.Sort(locIDs)
	if !slices.Equal(locIDs, []string{"berlin-lab", "cfg-paris"}) {
		t.Errorf("locations %v", locIDs)
	}
	paris, err := v1.Locations().Get(ctx, "cfg-paris")
	if err != nil || paris.Coordinate == nil || paris.Coordinate.Coordinates[0] != 2.35 || !slices.Equal(paris.OCloudSiteIDs, []string{"7b0c2a36-6d2c-4f4e-9d7a-2f1f3c1e9a01"}) {
		t.Errorf("configured location %+v, %v", paris, err)
	}

	// A v1 and a v2 subscriber on one callback server.
	got := make(chan o2.InventoryChangeNotification, 64)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n o2.InventoryChangeNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n.ConsumerSubscriptionID = r.URL.Path + " " + n.ConsumerSubscriptionID
		got <- n
		w.WriteHeader(http.StatusNoContent)
	}))
	defer cb.Close()
	places := o2.In("objectType", "Location", "OCloudSite")
	if _, err := v1.Subscriptions().Create(ctx, o2.SubscriptionRequest{Callback: cb.URL + "/v1", Filter: places}); !o2.IsBadRequest(err) {
		t.Errorf("v1 subscription to v2 object types: %v", err)
	}
	if _, err := v1.Subscriptions().Create(ctx, o2.SubscriptionRequest{Callback: cb.URL + "/v1"}); err != nil {
		t.Fatal(err)
	}
	sub2, err := v2.Subscriptions().Create(ctx, o2.SubscriptionRequest{Callback: cb.URL + "/v2", Filter: places})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v1.Subscriptions().Get(ctx, sub2.SubscriptionID); !o2.IsNotFound(err) {
		t.Errorf("v2 subscription read through v1: %v", err)
	}

	// The operator's place, through the SDK.
	loc, err := v1.Locations().Create(ctx, o2.Location{GlobalLocationID: "ber-2", Name: "Berlin 2", Address: "Alexanderplatz 1"})
	if err != nil || loc.GlobalLocationID != "ber-2" {
		t.Fatalf("create location: %+v, %v", loc, err)
	}
	s2, err := v1.OCloudSites().Create(ctx, o2.OCloudSite{GlobalLocationID: "ber-2", Name: "ber-2a"})
	if err != nil || s2.OCloudSiteID == "" {
		t.Fatalf("create site: %+v, %v", s2, err)
	}
	if err := v1.Locations().Delete(ctx, "ber-2"); !o2.IsConflict(err) {
		t.Errorf("delete a location with a site: %v", err)
	}
	if err := v1.Locations().Delete(ctx, "cfg-paris"); !o2.IsConflict(err) {
		t.Errorf("delete the configuration's location: %v", err)
	}
	if err := v1.OCloudSites().Delete(ctx, siteID); !o2.IsConflict(err) {
		t.Errorf("delete the host's site: %v", err)
	}
	if err := v1.OCloudSites().Delete(ctx, s2.OCloudSiteID); err != nil {
		t.Fatal(err)
	}
	if err := v1.Locations().Delete(ctx, "ber-2"); err != nil {
		t.Fatal(err)
	}

	// The v2 subscriber hears of the four changes, with v2 URLs; v1 has
	// no object type for them and hears nothing of them.
	want := []string{
		"/o2ims-infrastructureInventory/v2/locations/ber-2",
		"/o2ims-infrastructureInventory/v2/oCloudSites/" + s2.OCloudSiteID,
		"/o2ims-infrastructureInventory/v2/oCloudSites/" + s2.OCloudSiteID,
		"/o2ims-infrastructureInventory/v2/locations/ber-2",
	}
	var refs []string
	deadline := time.After(30 * time.Second)
	for len(refs) < len(want) {
		select {
		case n := <-got:
			path := refPath(t, n.ObjectRef)
			if strings.HasPrefix(n.ConsumerSubscriptionID, "/v1") {
				// The host's own changes, which v1 sees in its shapes.
				if !strings.HasPrefix(path, o2.InventoryAPIPrefix+"/") {
					t.Fatalf("the v1 subscriber was notified of %s", n.ObjectRef)
				}
				continue
			}
			if !strings.HasPrefix(n.ObjectRef, endpoint+"/") {
				// --listen 127.0.0.1:0: the URI names the bound port.
				t.Errorf("objectRef %s is not under %s", n.ObjectRef, endpoint)
			}
			refs = append(refs, path)
		case <-deadline:
			t.Fatalf("v2 notifications %v, want %v", refs, want)
		}
	}
	if !slices.Equal(refs, want) {
		t.Errorf("v2 notifications %v, want %v", refs, want)
	}
	for quiet := time.After(500 * time.Millisecond); ; {
		select {
		case n := <-got:
			if path := refPath(t, n.ObjectRef); strings.HasPrefix(n.ConsumerSubscriptionID, "/v2") || !strings.HasPrefix(path, o2.InventoryAPIPrefix+"/") {
				t.Errorf("one more notification: %s %s", n.ConsumerSubscriptionID, n.ObjectRef)
			}
		case <-quiet:
			return
		}
	}
}

// refPath is the path of an objectRef URL.
func refPath(t *testing.T, ref string) string {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil {
		t.Fatalf("objectRef %q: %v", ref, err)
	}
	return u.Path
}
