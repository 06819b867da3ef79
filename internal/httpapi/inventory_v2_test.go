package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const inv2 = "/o2ims-infrastructureInventory/v2"

// Inventory v2 serves the objects v1 serves, in the O2ims v11 shapes, and
// the locations and sites they are in.
func TestInventoryV2(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		get := func(t *testing.T, path string) map[string]any {
			t.Helper()
			r := e.do(t, "GET", path)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			return r.object(t)
		}
		listIDs := func(t *testing.T, path, key string) []string {
			t.Helper()
			r := e.do(t, "GET", path)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			got := ids(r.list(t), key)
			slices.Sort(got)
			return got
		}

		t.Run("O-Cloud", func(t *testing.T) {
			c := get(t, inv2)
			if c["oCloudId"] != e.oCloudID || c["globalCloudId"] != "gc-1" {
				t.Errorf("O-Cloud %v", c)
			}
			if _, ok := c["extensions"].(map[string]any); !ok {
				t.Errorf("v11 requires extensions: %v", c)
			}
		})

		t.Run("pools name their site", func(t *testing.T) {
			p := get(t, inv2+"/resourcePools/"+poolA)
			if p["oCloudSiteId"] != siteE {
				t.Errorf("v2 pool %v", p)
			}
			for _, gone := range []string{"oCloudId", "globalLocationId", "location"} {
				if _, ok := p[gone]; ok {
					t.Errorf("v2 pool has v1's %s: %v", gone, p)
				}
			}
			// v1 shows the site's location instead, derived from v2's model.
			p1 := get(t, inv+"/resourcePools/"+poolA)
			if p1["globalLocationId"] != "loc-east" || p1["location"] != "east" || p1["oCloudId"] != e.oCloudID || p1["oCloudSiteId"] != nil {
				t.Errorf("v1 pool %v", p1)
			}
			if got := listIDs(t, inv2+"/resourcePools?filter=(eq,oCloudSiteId,"+siteW+")", "resourcePoolId"); !slices.Equal(got, []string{poolB}) {
				t.Errorf("pools in site west: %v", got)
			}
			if r := e.do(t, "GET", inv2+"/resourcePools?filter=(eq,location,east)"); r.status != 400 || !strings.Contains(string(r.body), "location") {
				t.Errorf("v1's location is not a v2 attribute: %d %s", r.status, r.body)
			}
		})

		t.Run("resource types name their dictionary", func(t *testing.T) {
			ty := get(t, inv2+"/resourceTypes/"+typeS+"?all_fields")
			if ty["alarmDictionaryId"] != alarms.Dictionary.AlarmDictionaryID || ty["alarmDictionary"] != nil {
				t.Errorf("v2 type %v", ty)
			}
			if ty1 := get(t, inv+"/resourceTypes/"+typeS+"?all_fields"); ty1["alarmDictionary"] == nil || ty1["alarmDictionaryId"] != nil {
				t.Errorf("v1 type %v", ty1)
			}
			d := get(t, inv2+"/resourceTypes/"+typeS+"/alarmDictionary")
			if d["alarmDictionaryId"] != ty["alarmDictionaryId"] {
				t.Errorf("dictionary %v", d["alarmDictionaryId"])
			}
		})

		t.Run("resources", func(t *testing.T) {
			r := get(t, inv2+"/resourcePools/"+poolA+"/resources/"+resID(0)+"?all_fields")
			if _, ok := r["parentId"]; ok {
				t.Errorf("v2 resource has parentId: %v", r)
			}
			for _, k := range []string{"globalAssetId", "description", "elements", "tags", "groups", "extensions"} {
				if _, ok := r[k]; !ok {
					t.Errorf("v2 resource lacks %s: %v", k, r)
				}
			}
			els, _ := r["elements"].([]any)
			if len(els) != 1 {
				t.Fatalf("elements %v", r["elements"])
			}
			if _, ok := els[0].(map[string]any)["parentId"]; ok {
				t.Errorf("element has parentId: %v", els[0])
			}
			if got := listIDs(t, inv2+"/resourcePools/"+poolB+"/resources", "resourceId"); len(got) != 2 {
				t.Errorf("resources of pool B: %v", got)
			}
		})

		t.Run("locations and sites", func(t *testing.T) {
			if got := listIDs(t, inv2+"/locations", "globalLocationId"); !slices.Equal(got, []string{"default", "loc-east", "loc-west"}) {
				t.Errorf("locations %v", got)
			}
			east := get(t, inv2+"/locations/loc-east")
			if fmt.Sprint(east["oCloudSiteIds"]) != "["+siteE+"]" || east["address"] != "east" || east["name"] != "East" {
				t.Errorf("location east %v", east)
			}
			west := get(t, inv2+"/locations/loc-west")
			if c, _ := west["coordinate"].(map[string]any); c["type"] != "Point" || fmt.Sprint(c["coordinates"]) != "[13.4 52.5]" {
				t.Errorf("location west %v", west)
			}
			if def := get(t, inv2+"/locations/default"); fmt.Sprint(def["oCloudSiteIds"]) != "[]" {
				t.Errorf("no site is at the default location: %v", def)
			}
			site := get(t, inv2+"/oCloudSites/"+siteE)
			if site["globalLocationId"] != "loc-east" || fmt.Sprint(site["resourcePools"]) != "["+poolA+"]" || site["name"] != "east-1" {
				t.Errorf("site %v", site)
			}
			if got := listIDs(t, inv2+"/oCloudSites?filter=(eq,globalLocationId,loc-west)", "oCloudSiteId"); !slices.Equal(got, []string{siteW}) {
				t.Errorf("sites at west: %v", got)
			}
			// The same objects under /o2ims/v1.
			if got := listIDs(t, "/o2ims/v1/oCloudSites", "oCloudSiteId"); !slices.Equal(got, []string{siteE, siteW}) {
				t.Errorf("admin list of sites %v", got)
			}
		})

		t.Run("errors", func(t *testing.T) {
			for _, c := range []struct{ path, want string }{
				{inv2 + "/locations?filter=(eq,oCloudSiteIds," + siteE + ")", "derived"},
				{inv2 + "/oCloudSites?fields=(name,nope)", "nope"},
				{inv2 + "/locations/loc-east?fields=(wrongAttr)", "wrongAttr"},
				{inv2 + "/locations/nowhere", "not found"},
				{inv2 + "/oCloudSites/not-a-uuid", "oCloudSiteId"},
				{inv2 + "/subscriptions/00000000-0000-4000-8000-000000000000", "not found"},
			} {
				r := e.do(t, "GET", c.path)
				if r.status < 400 || r.status >= 500 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), c.want) {
					t.Errorf("%s: %d %s %s, want a problem naming %q", c.path, r.status, r.header.Get("Content-Type"), r.body, c.want)
				}
			}
		})
	})
}

// The operator defines locations and sites through /o2ims/v1; v2 shows
// them, v1's pools follow their site's location, and what providers or
// the configuration file define is not the API's to change.
func TestPlacesAdminAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		send := func(t *testing.T, method, path, body string) response {
			t.Helper()
			var r response
			if body == "" {
				r = e.do(t, method, path)
			} else {
				r = e.send(t, method, path, "application/json", strings.NewReader(body))
			}
			if r.status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d without a problem: %s", method, path, r.status, r.body)
			}
			return r
		}
		expect := func(t *testing.T, r response, status int, contains string) {
			t.Helper()
			if r.status != status || !strings.Contains(string(r.body), contains) {
				t.Errorf("got %d %s, want %d with %q", r.status, r.body, status, contains)
			}
		}

		expect(t, send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"ber","name":"Berlin"}`), 400, "at least one of coordinate, civicAddress and address")
		expect(t, send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"ber","name":"Berlin","coordinate":{"type":"Point","coordinates":[200,52]}}`), 400, "longitude")
		expect(t, send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"ber","name":"Berlin","address":"x","oCloudSiteIds":[]}`), 400, "oCloudSiteIds")
		expect(t, send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"a/b","name":"Slash","address":"x"}`), 400, "globalLocationId")
		created := send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"ber","name":"Berlin","civicAddress":[{"caType":1,"caValue":"Berlin"}]}`)
		expect(t, created, 201, `"oCloudSiteIds":[]`)
		if got := created.header.Get("Location"); got != "/o2ims/v1/locations/ber" {
			t.Errorf("Location %q", got)
		}
		expect(t, send(t, "POST", "/o2ims/v1/locations", `{"globalLocationId":"ber","name":"Again","address":"y"}`), 409, "exists already")
		expect(t, send(t, "PUT", "/o2ims/v1/locations/loc-east", `{"name":"East","address":"moved"}`), 409, "configuration file")
		expect(t, send(t, "PUT", "/o2ims/v1/locations/default", `{"name":"Lab","address":"moved"}`), 409, "--global-location-id")
		expect(t, send(t, "PUT", "/o2ims/v1/locations/ber", `{"globalLocationId":"other","name":"Berlin","address":"y"}`), 400, "path")
		expect(t, send(t, "PUT", "/o2ims/v1/locations/nowhere", `{"name":"N","address":"y"}`), 404, "not found")

		expect(t, send(t, "POST", "/o2ims/v1/oCloudSites", `{"globalLocationId":"nowhere","name":"s"}`), 400, "no location")
		site := send(t, "POST", "/o2ims/v1/oCloudSites", `{"globalLocationId":"ber","name":"ber-1","description":"Berlin 1"}`)
		expect(t, site, 201, `"resourcePools":[]`)
		siteID, _ := site.object(t)["oCloudSiteId"].(string)
		if site.header.Get("Location") != "/o2ims/v1/oCloudSites/"+siteID {
			t.Errorf("site Location %q", site.header.Get("Location"))
		}
		if loc := e.do(t, "GET", inv2+"/locations/ber").object(t); fmt.Sprint(loc["oCloudSiteIds"]) != "["+siteID+"]" {
			t.Errorf("location ber %v", loc)
		}
		expect(t, send(t, "DELETE", "/o2ims/v1/oCloudSites/"+siteE, ""), 409, "provider static")
		expect(t, send(t, "DELETE", "/o2ims/v1/locations/ber", ""), 409, "O-Cloud sites are at location")

		// The provider puts pool B in the operator's site: v1 shows the
		// site's location; the site cannot go while the pool is in it.
		snap := fixture()
		snap.ResourcePools[1].OCloudSiteID = siteID
		if _, err := e.syncer.SyncOnce(context.Background(), staticProvider{snap}); err != nil {
			t.Fatal(err)
		}
		if p := e.do(t, "GET", inv+"/resourcePools/"+poolB).object(t); p["globalLocationId"] != "ber" || p["location"] != "Berlin" {
			t.Errorf("v1 pool in the operator's site: %v", p)
		}
		expect(t, send(t, "DELETE", "/o2ims/v1/oCloudSites/"+siteID, ""), 409, "resource pools are in")
		// A new address reaches v1's pools at their next sync.
		expect(t, send(t, "PUT", "/o2ims/v1/locations/ber", `{"name":"Berlin","address":"Alexanderplatz 1"}`), 200, "Alexanderplatz")
		if _, err := e.syncer.SyncOnce(context.Background(), staticProvider{snap}); err != nil {
			t.Fatal(err)
		}
		if p := e.do(t, "GET", inv+"/resourcePools/"+poolB).object(t); p["location"] != "Alexanderplatz 1" {
			t.Errorf("v1 pool after the location moved: %v", p)
		}

		// Once the pool has left, site and location can go.
		if _, err := e.syncer.SyncOnce(context.Background(), staticProvider{fixture()}); err != nil {
			t.Fatal(err)
		}
		expect(t, send(t, "PUT", "/o2ims/v1/oCloudSites/"+siteID, `{"globalLocationId":"ber","name":"ber-one"}`), 200, "ber-one")
		expect(t, send(t, "DELETE", "/o2ims/v1/oCloudSites/"+siteID, ""), 204, "")
		expect(t, send(t, "DELETE", "/o2ims/v1/locations/ber", ""), 204, "")
		expect(t, send(t, "GET", inv2+"/locations/ber", ""), 404, "not found")
		expect(t, send(t, "DELETE", "/o2ims/v1/locations/ber", ""), 404, "not found")
	})
}
