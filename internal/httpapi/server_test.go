package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/api/openapi"
	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/httpapi"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/report"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
	"github.com/nephoran/o2ims/internal/subscription"
)

// staticProvider reports a fixed inventory.
type staticProvider struct{ snap ims.Snapshot }

func (p staticProvider) Name() string { return "static" }
func (p staticProvider) Discover(context.Context) (ims.Snapshot, error) {
	return p.snap, nil
}

const (
	poolA = "10000000-0000-4000-8000-00000000000a"
	poolB = "10000000-0000-4000-8000-00000000000b"
	typeS = "20000000-0000-4000-8000-000000000001"
	typeD = "20000000-0000-4000-8000-000000000002"
	dmID  = "30000000-0000-4000-8000-000000000001"
	siteE = "50000000-0000-4000-8000-00000000000e"
	siteW = "50000000-0000-4000-8000-00000000000f"
)

// The places of the fixture: the O-Cloud's default location, and two
// locations of the configuration file with a provider's site at each.
var (
	defaultPlace = inventory.Place{Location: ims.Location{GlobalLocationID: "default", Name: "Lab", Address: "lab"}}
	fixtureLocs  = []ims.Location{
		{GlobalLocationID: "loc-east", Name: "East", Address: "east"},
		{GlobalLocationID: "loc-west", Name: "West", Address: "west", Coordinate: &ims.GeoPoint{Type: "Point", Coordinates: []float64{13.4, 52.5}}},
	}
)

func resID(i int) string { return fmt.Sprintf("40000000-0000-4000-8000-%012d", i) }

func fixture() ims.Snapshot {
	s := ims.Snapshot{
		Sites: []ims.OCloudSite{
			{OCloudSiteID: siteE, GlobalLocationID: "loc-east", Name: "east-1"},
			{OCloudSiteID: siteW, GlobalLocationID: "loc-west", Name: "west-1"},
		},
		ResourceTypes: []ims.ResourceType{
			{ResourceTypeID: typeS, Name: "server", Vendor: "acme", Model: "S1", ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassCompute},
			{ResourceTypeID: typeD, Name: "disk", Vendor: "acme", Model: "D1", ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassStorage},
		},
		ResourcePools: []ims.ResourcePool{
			{ResourcePoolID: poolA, Name: "my pool", OCloudSiteID: siteE, Extensions: ims.Extensions{"site": "east-1", "racks": 4}},
			{ResourcePoolID: poolB, Name: "other", OCloudSiteID: siteW, Extensions: ims.Extensions{"site": "west-1", "racks": 10}},
		},
		DeploymentManagers: []ims.DeploymentManager{{DeploymentManagerID: dmID, Name: "dm", ServiceURI: "https://dm", SupportedLocations: []string{"east"}, Capacity: map[string]any{"cpu": 8}}},
	}
	for i := range 7 {
		pool, typ, tags := poolA, typeS, []string{"host"}
		if i >= 5 {
			pool, typ, tags = poolB, typeD, []string{"disk", "ssd"}
		}
		s.Resources = append(s.Resources, ims.Resource{
			ResourceID: resID(i), ResourcePoolID: pool, ResourceTypeID: typ, Description: fmt.Sprintf("res %d", i),
			Tags: tags, Extensions: ims.Extensions{"sizeGB": 100 * (i + 1), "label": fmt.Sprintf("n,%d", i)},
			Elements: []ims.Resource{{ResourceID: resID(100 + i), ResourcePoolID: pool, ResourceTypeID: typ}},
		})
	}
	return s
}

type env struct {
	srv      *httptest.Server
	handler  http.Handler
	reg      *prometheus.Registry
	store    *sqlstore.Store
	syncer   *inventory.Syncer
	alarms   *alarms.Service
	lcm      *lcm.Service
	oCloudID string
}

// newEnv serves every API over a fresh store of backend b holding
// fixture(): inventory, subscriptions (callbacks checked by the default
// notify.Policy, which allows loopback), alarms and the Alertmanager
// receiver.
func newEnv(t testing.TB, b sqlstoretest.Backend) *env {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := sqlstoretest.Open(t, b)
	syncer := inventory.NewSyncer(store, nil, time.Hour, logger)
	if err := syncer.PublishBuiltin(context.Background(), defaultPlace); err != nil {
		t.Fatal(err)
	}
	if err := syncer.PublishConfig(context.Background(), fixtureLocs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := syncer.SyncOnce(context.Background(), staticProvider{fixture()}); err != nil {
		t.Fatal(err)
	}
	oCloudID, err := store.OCloudID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	alarmSvc := alarms.NewService(store, logger)
	reg := prometheus.NewRegistry()
	lcmSvc := lcm.NewService(store, nil, alarmSvc, lcm.Options{}, logger, nil)
	deploySvc := deployment.NewService(store, lcmSvc, alarmSvc, deployment.Options{ReserveByDefault: true}, logger, nil)
	invSvc := inventory.NewService(store, inventory.CloudConfig{GlobalCloudID: "gc-1", Name: "cloud", AlarmDictionary: &alarms.Dictionary}, logger)
	h, err := httpapi.New(httpapi.Options{
		Report:        report.NewBuilder(invSvc, store, deploySvc, reg),
		Changes:       store,
		LCM:           lcmSvc,
		Deployments:   deploySvc,
		Provisioning:  newProvisioning(t, store, logger),
		Advisor:       advisor.NewService(store, deploySvc, nil, nil, logger),
		Inventory:     invSvc,
		Subscriptions: subscription.NewService(store, notify.Policy{}, subscription.NewMatchers(), logger),
		Alarms:        alarmSvc,
		Receiver:      alarms.NewReceiver(alarmSvc, store),
		Specs:         openapi.Specs,
		Registry:      reg,
		Gatherer:      reg,
		Logger:        logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, handler: h, reg: reg, store: store, syncer: syncer, alarms: alarmSvc, lcm: lcmSvc, oCloudID: oCloudID}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(t *testing.T, method, target string) response {
	t.Helper()
	return e.send(t, method, target, "", nil)
}

// send makes a request with a body of contentType (none when body is nil).
func (e *env) send(t *testing.T, method, target, contentType string, body io.Reader) response {
	t.Helper()
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return e.request(t, method, target, h, body)
}

// request makes a request with the given headers.
func (e *env) request(t *testing.T, method, target string, header http.Header, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (r response) list(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode list (status %d): %v: %s", r.status, err, r.body)
	}
	return out
}

func ids(items []map[string]any, key string) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprint(it[key]))
	}
	return out
}

const inv = "/o2ims-infrastructureInventory/v1"

func TestInventoryAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)

		t.Run("versions", func(t *testing.T) {
			// The API's root lists both majors; each major lists its own.
			for p, want := range map[string]string{
				"/o2ims-infrastructureInventory/api_versions":    `{"apiVersions":[{"version":"1.0.0"},{"version":"2.0.0"}],"uriPrefix":"/o2ims-infrastructureInventory"}`,
				inv + "/api_versions":                            `{"apiVersions":[{"version":"1.0.0"}],"uriPrefix":"/o2ims-infrastructureInventory/v1"}`,
				"/o2ims-infrastructureInventory/v2/api_versions": `{"apiVersions":[{"version":"2.0.0"}],"uriPrefix":"/o2ims-infrastructureInventory/v2"}`,
			} {
				r := e.do(t, "GET", p)
				if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
					t.Errorf("%s: %d %s, want %s", p, r.status, r.body, want)
				}
			}
		})
		t.Run("cloud info", func(t *testing.T) {
			r := e.do(t, "GET", inv)
			var c map[string]any
			if err := json.Unmarshal(r.body, &c); err != nil || r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if c["globalCloudId"] != "gc-1" || c["name"] != "cloud" || c["oCloudId"] == "" {
				t.Errorf("cloud info %v", c)
			}
			pool := e.do(t, "GET", inv+"/resourcePools/"+poolA)
			if !strings.Contains(string(pool.body), fmt.Sprintf(`"oCloudId":"%s"`, c["oCloudId"])) {
				t.Errorf("pool does not carry the oCloudId: %s", pool.body)
			}
		})
		t.Run("trailing slash", func(t *testing.T) {
			// A trailing slash names the same resource, as the O-RAN SC
			// compliance suite expects of the O-Cloud's /v1/.
			for _, c := range []struct {
				path   string
				status int
				want   string
			}{
				{inv + "/", 200, `"globalCloudId":"gc-1"`},
				{inv + "/?all_fields", 200, `"extensions":{}`},
				{inv + "/resourcePools/", 200, poolB},
				{inv + "/resourcePools/" + poolA + "/", 200, `"name":"my pool"`},
				{inv + "/resourcePools/" + poolA + "/resources/?filter=(eq,resourceId," + resID(1) + ")", 200, resID(1)},
				{"/o2ims-infrastructureMonitoring/v1/api_versions/", 200, `"uriPrefix":"/o2ims-infrastructureMonitoring/v1"`},
				{"/healthz/", 200, "ok"},
				{"/no/such/path/", 404, `"detail":"no resource at /no/such/path"`},
				{"/", 404, `"detail":"no resource at /"`},
			} {
				if r := e.do(t, "GET", c.path); r.status != c.status || !strings.Contains(string(r.body), c.want) {
					t.Errorf("%s: %d %s, want %d with %s", c.path, r.status, r.body, c.status, c.want)
				}
			}
			if r := e.do(t, "POST", inv+"/resourcePools/"); r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("POST on a collection with a trailing slash: %d %q", r.status, r.header.Get("Allow"))
			}
		})
		t.Run("deployment manager mandatory attributes", func(t *testing.T) {
			// O2ims makes supportedLocations, capabilities and capacity
			// mandatory: the fixture's manager reports no capabilities,
			// which v1, v2 and the alias show as {} unless a selector
			// leaves them out.
			for _, c := range []struct {
				path string
				want []string
				not  []string
			}{
				{inv + "/deploymentManagers", []string{`"capabilities":{}`, `"capacity":{"cpu":8}`, `"supportedLocations":["east"]`, `"description":""`}, nil},
				{inv + "/deploymentManagers/" + dmID, []string{`"capabilities":{}`, `"capacity":{"cpu":8}`}, nil},
				{inv + "/deploymentManagers/" + dmID + "?all_fields", []string{`"capabilities":{}`, `"extensions":{}`}, nil},
				{inv + "/deploymentManagers?exclude_default", []string{`"capabilities":{}`}, []string{`"extensions"`}},
				{inv + "/deploymentManagers?exclude_fields=capabilities", []string{`"capacity":{"cpu":8}`}, []string{`"capabilities"`}},
				{"/o2ims-infrastructureInventory/v2/deploymentManagers", []string{`"capabilities":{}`}, nil},
				{"/o2ims/v1/deploymentManagers/" + dmID, []string{`"capabilities":{}`}, nil},
			} {
				r := e.do(t, "GET", c.path)
				for _, w := range c.want {
					if r.status != 200 || !strings.Contains(string(r.body), w) {
						t.Errorf("%s: %d %s, want %s", c.path, r.status, r.body, w)
					}
				}
				for _, n := range c.not {
					if strings.Contains(string(r.body), n) {
						t.Errorf("%s: %s has %s", c.path, r.body, n)
					}
				}
			}
		})
		t.Run("filters", func(t *testing.T) {
			cases := []struct {
				path string
				key  string
				want []string
			}{
				{inv + "/resourcePools?filter=(eq,name,'my%20pool')", "resourcePoolId", []string{poolA}},
				{inv + "/resourcePools?filter=(gt,extensions/racks,9)", "resourcePoolId", []string{poolB}},
				{inv + "/resourcePools?filter=(neq,location,east)", "resourcePoolId", []string{poolB}},
				{inv + "/resourceTypes?filter=(in,resourceClass,STORAGE,NETWORKING)", "resourceTypeId", []string{typeD}},
				{inv + "/resourcePools/" + poolB + "/resources?filter=(eq,tags,ssd)", "resourceId", []string{resID(5), resID(6)}},
				{inv + "/resourcePools/" + poolA + "/resources?filter=(eq,tags,ssd)", "resourceId", nil},
				{inv + "/resourcePools/" + poolA + "/resources?filter=(lte,extensions/sizeGB,200);(cont,description,res)", "resourceId", []string{resID(0), resID(1)}},
				{inv + "/resourcePools/" + poolA + "/resources?filter=(eq,extensions/label,'n,3')", "resourceId", []string{resID(3)}},
				{"/o2ims/v1/resources?filter=(eq,resourceTypeId," + typeD + ")", "resourceId", []string{resID(5), resID(6)}},
				{"/o2ims/v1/deploymentManagers?filter=(eq,supportedLocations,east)", "deploymentManagerId", []string{dmID}},
				{"/o2ims/v1/resourcePools", "resourcePoolId", []string{poolA, poolB}},
			}
			for _, c := range cases {
				r := e.do(t, "GET", c.path)
				if r.status != 200 {
					t.Errorf("%s: %d %s", c.path, r.status, r.body)
					continue
				}
				if got := ids(r.list(t), c.key); !slices.Equal(got, c.want) {
					t.Errorf("%s: got %v, want %v", c.path, got, c.want)
				}
			}
		})
		t.Run("selectors", func(t *testing.T) {
			r := e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?filter=(eq,resourceId,"+resID(0)+")")
			item := r.list(t)[0]
			if _, ok := item["extensions"]; ok {
				t.Errorf("extensions returned by default: %v", item)
			}
			if _, ok := item["elements"]; ok {
				t.Errorf("elements returned by default: %v", item)
			}
			if item["description"] != "res 0" || item["tags"] == nil {
				t.Errorf("default attributes missing: %v", item)
			}
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?all_fields&filter=(eq,resourceId,"+resID(0)+")")
			item = r.list(t)[0]
			if item["extensions"] == nil || item["elements"] == nil {
				t.Errorf("all_fields: %v", item)
			}
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?fields=extensions/sizeGB&filter=(eq,resourceId,"+resID(0)+")")
			item = r.list(t)[0]
			if ext, _ := item["extensions"].(map[string]any); len(ext) != 1 || ext["sizeGB"] != float64(100) {
				t.Errorf("fields=extensions/sizeGB: %v", item)
			}
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?exclude_fields=tags,description&filter=(eq,resourceId,"+resID(0)+")")
			item = r.list(t)[0]
			if _, ok := item["tags"]; ok {
				t.Errorf("exclude_fields=tags: %v", item)
			}
			// all_fields shows every attribute, the empty ones too.
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?all_fields&filter=(eq,resourceId,"+resID(0)+")")
			item = r.list(t)[0]
			if el, ok := item["elements"].([]any); !ok || len(el) != 1 {
				t.Errorf("all_fields elements: %v", item["elements"])
			}
			r = e.do(t, "GET", inv+"/resourceTypes?all_fields")
			for _, rt := range r.list(t) {
				for _, k := range []string{"extensions", "description", "vendor", "model", "version"} {
					if _, ok := rt[k]; !ok {
						t.Errorf("all_fields resource type %v lacks %s", rt["name"], k)
					}
				}
				if ext, ok := rt["extensions"].(map[string]any); !ok || len(ext) != 0 {
					t.Errorf("all_fields resource type %v: extensions %v, want {}", rt["name"], rt["extensions"])
				}
			}
			r = e.do(t, "GET", inv+"/resourceTypes?fields=extensions")
			if rt := r.list(t)[0]; rt["extensions"] == nil || rt["name"] == nil {
				t.Errorf("fields=extensions: %v", rt)
			}
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources?all_fields&filter=(eq,resourceId,"+resID(0)+")")
			if _, ok := r.list(t)[0]["globalAssetId"]; !ok {
				t.Errorf("all_fields resource lacks globalAssetId: %v", r.list(t)[0])
			}
			// Individual GETs return the whole object.
			r = e.do(t, "GET", inv+"/resourcePools/"+poolA+"/resources/"+resID(0))
			if r.status != 200 || !strings.Contains(string(r.body), `"elements"`) || !strings.Contains(string(r.body), `"sizeGB":100`) {
				t.Errorf("get resource: %d %s", r.status, r.body)
			}
			// A resource is found only under its own pool; a miss says
			// which of pool and resource is unknown.
			for path, want := range map[string]string{
				inv + "/resourcePools/" + poolB + "/resources/" + resID(0):                        "not found in resource pool",
				inv + "/resourcePools/" + poolA + "/resources/" + resID(99):                       "not found in resource pool",
				inv + "/resourcePools/00000000-0000-4000-8000-000000000009/resources/" + resID(0): "resource pool",
			} {
				if r := e.do(t, "GET", path); r.status != 404 || !strings.Contains(string(r.body), want) {
					t.Errorf("%s: %d %s, want 404 with %q", path, r.status, r.body, want)
				}
			}
		})
		t.Run("paging", func(t *testing.T) {
			var got []string
			next := "/o2ims/v1/resources?limit=3&filter=(neq,description,none)"
			pages := 0
			for next != "" {
				r := e.do(t, "GET", next)
				if r.status != 200 {
					t.Fatalf("%s: %d %s", next, r.status, r.body)
				}
				got = append(got, ids(r.list(t), "resourceId")...)
				pages++
				next = ""
				if l := r.header.Get("Link"); l != "" {
					m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(l)
					if m == nil {
						t.Fatalf("bad Link header %q", l)
					}
					u, err := url.Parse(m[1])
					if err != nil || u.Query().Get("filter") != "(neq,description,none)" || u.Query().Get("limit") != "3" {
						t.Fatalf("Link does not keep the query: %q", l)
					}
					next = m[1]
				}
			}
			want := []string{resID(0), resID(1), resID(2), resID(3), resID(4), resID(5), resID(6)}
			if !slices.Equal(got, want) || pages != 3 {
				t.Errorf("paged %d pages: %v", pages, got)
			}
		})
		t.Run("single object selectors", func(t *testing.T) {
			obj := func(path string) map[string]any {
				t.Helper()
				r := e.do(t, "GET", path)
				var m map[string]any
				if r.status != 200 || json.Unmarshal(r.body, &m) != nil {
					t.Fatalf("%s: %d %s", path, r.status, r.body)
				}
				return m
			}
			// Selectors are validated on single objects too, naming every
			// unknown attribute.
			for path, want := range map[string]string{
				inv + "?fields=(resourceId,WrongAttrName)":                                                                           "WrongAttrName",
				inv + "/resourceTypes/" + typeS + "?fields=nosuch":                                                                   "nosuch",
				inv + "/resourcePools/" + poolA + "?exclude_fields=colour,size":                                                      `\"colour\", \"size\"`,
				"/o2ims/v1/resources/" + resID(0) + "?fields=bad":                                                                    "bad",
				inv + "/resourceTypes/" + typeS + "?all_fields&fields=name":                                                          "all_fields",
				inv + "/alarmDictionaries/" + alarms.Dictionary.AlarmDictionaryID + "?fields=nosuch":                                 "nosuch",
				inv + "/resourceTypes/" + typeS + "/alarmDictionary?exclude_fields=colour":                                           "colour",
				"/o2ims-infrastructureMonitoring/v1/alarmProbableCauses/" + alarms.ProbableCauses[0].ProbableCauseID + "?fields=zzz": "zzz",
			} {
				r := e.do(t, "GET", path)
				if r.status != 400 || !strings.Contains(string(r.body), want) || r.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: %d %s, want 400 naming %q", path, r.status, r.body, want)
				}
			}
			if d := obj(inv + "/alarmDictionaries/" + alarms.Dictionary.AlarmDictionaryID + "?exclude_fields=alarmDefinition"); d["alarmDefinition"] != nil || d["vendor"] == nil {
				t.Errorf("dictionary with exclude_fields=alarmDefinition: %v", d)
			}
			cloud := obj(inv + "?all_fields")
			if ext, ok := cloud["extensions"].(map[string]any); !ok || len(ext) != 0 || cloud["globalCloudId"] != "gc-1" {
				t.Errorf("O-Cloud with all_fields: %v", cloud)
			}
			// A v1 resource type embeds its alarm dictionary.
			rt := obj(inv + "/resourceTypes/" + typeS + "?all_fields")
			dict, _ := rt["alarmDictionary"].(map[string]any)
			if dict["alarmDictionaryId"] != alarms.Dictionary.AlarmDictionaryID || dict["managementInterfaceId"] == nil || rt["extensions"] == nil {
				t.Errorf("resource type with all_fields: %v", rt)
			}
			rt = obj(inv + "/resourceTypes/" + typeS + "?exclude_fields=extensions")
			if _, ok := rt["extensions"]; ok || rt["alarmDictionary"] == nil {
				t.Errorf("resource type with exclude_fields=extensions: %v", rt)
			}
			for _, rt := range e.do(t, "GET", inv+"/resourceTypes?exclude_fields=extensions").list(t) {
				if _, ok := rt["extensions"]; ok || rt["alarmDictionary"] == nil {
					t.Errorf("resource type list with exclude_fields=extensions: %v", rt)
				}
			}
			if rt := e.do(t, "GET", inv+"/resourceTypes").list(t)[0]; rt["alarmDictionary"] != nil {
				t.Errorf("the default list embeds the alarm dictionary: %v", rt)
			}
			res := obj(inv + "/resourcePools/" + poolA + "/resources/" + resID(0) + "?fields=extensions/sizeGB")
			if ext, _ := res["extensions"].(map[string]any); len(ext) != 1 || ext["sizeGB"] != float64(100) || res["elements"] != nil || res["description"] != "res 0" {
				t.Errorf("resource with fields=extensions/sizeGB: %v", res)
			}
			if res := obj("/o2ims/v1/resources/" + resID(0) + "?exclude_default"); res["elements"] != nil || res["extensions"] != nil || res["tags"] == nil {
				t.Errorf("alias resource with exclude_default: %v", res)
			}
		})
		t.Run("page numbers", func(t *testing.T) {
			// Clients of other O2 IMS implementations send page numbers.
			all := ids(e.do(t, "GET", "/o2ims/v1/resources").list(t), "resourceId")
			for n, want := range map[string][]string{"1": all[:3], "2": all[3:6], "3": all[6:], "4": nil, "999999": nil} {
				r := e.do(t, "GET", "/o2ims/v1/resources?limit=3&nextpage_opaque_marker="+n)
				if got := ids(r.list(t), "resourceId"); r.status != 200 || !slices.Equal(got, want) {
					t.Errorf("page %s: %d %v, want %v", n, r.status, got, want)
				}
			}
			for _, bad := range []string{"0", "-1", "1.5", "2a"} {
				if r := e.do(t, "GET", inv+"/resourceTypes?nextpage_opaque_marker="+bad); r.status != 400 {
					t.Errorf("marker %q: %d %s", bad, r.status, r.body)
				}
			}
		})
		t.Run("problems", func(t *testing.T) {
			cases := []struct {
				method, path string
				status       int
				detail       string
			}{
				{"GET", inv + "/resourceTypes?filter=(eq,colour,red)", 400, "colour"},
				{"GET", inv + "/resourceTypes?filter=(eq,name,a,b)", 400, "(eq,name,a,b)"},
				{"GET", inv + "/resourceTypes?filter=(like,name,a)", 400, "like"},
				{"GET", inv + "/resourceTypes?filter=(eq,name,'open", 400, "quote"},
				{"GET", inv + "/resourceTypes?fields=nosuch", 400, "nosuch"},
				{"GET", inv + "/resourceTypes?all_fields&fields=extensions", 400, "all_fields"},
				{"GET", inv + "/resourceTypes?limit=0", 400, "limit"},
				{"GET", inv + "/resourceTypes?limit=1001", 400, "limit"},
				{"GET", inv + "/resourceTypes?limit=ten", 400, "limit"},
				{"GET", inv + "/resourceTypes?nextpage_opaque_marker=garbage", 400, "nextpage_opaque_marker"},
				{"GET", inv + "/resourcePools/not-a-uuid", 400, "resourcePoolId"},
				{"GET", inv + "/resourcePools/" + poolA + "x", 400, "resourcePoolId"},
				{"GET", inv + "/resourcePools/00000000-0000-4000-8000-000000000000", 404, "not found"},
				{"GET", inv + "/resourcePools/00000000-0000-4000-8000-000000000000/resources", 404, "not found"},
				{"GET", inv + "/resourcePools/" + poolB + "/resources/" + resID(0), 404, "not found"},
				{"GET", inv + "/deploymentManagers/00000000-0000-4000-8000-000000000000", 404, "not found"},
				{"GET", "/no/such/path", 404, "/no/such/path"},
				{"DELETE", inv + "/resourcePools", 405, "DELETE"},
				{"POST", "/o2ims/v1/resources", 405, "POST"},
			}
			for _, c := range cases {
				r := e.do(t, c.method, c.path)
				if r.status != c.status {
					t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
					continue
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s %s: content type %q", c.method, c.path, ct)
				}
				var p map[string]any
				if err := json.Unmarshal(r.body, &p); err != nil {
					t.Errorf("%s %s: body not JSON: %s", c.method, c.path, r.body)
					continue
				}
				for _, k := range []string{"type", "title", "status", "detail", "instance"} {
					if _, ok := p[k]; !ok {
						t.Errorf("%s %s: problem lacks %q: %s", c.method, c.path, k, r.body)
					}
				}
				if p["status"] != float64(c.status) || !strings.Contains(fmt.Sprint(p["detail"]), c.detail) {
					t.Errorf("%s %s: problem %s does not mention %q", c.method, c.path, r.body, c.detail)
				}
				if c.status == 405 && !strings.Contains(r.header.Get("Allow"), "GET") {
					t.Errorf("%s %s: Allow %q", c.method, c.path, r.header.Get("Allow"))
				}
			}
		})
		t.Run("request id", func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+inv, nil)
			req.Header.Set("X-Request-Id", "abc-123")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Header.Get("X-Request-Id") != "abc-123" {
				t.Errorf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
			}
		})
		t.Run("metrics", func(t *testing.T) {
			e.do(t, "GET", inv+"/resourcePools/"+poolA)
			r := e.do(t, "GET", "/metrics")
			body := string(r.body)
			want := `o2ims_api_requests_total{code="200",endpoint="/o2ims-infrastructureInventory/v1/resourcePools/{resourcePoolId}",method="GET"}`
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
			if !strings.Contains(body, `o2ims_api_request_duration_seconds_bucket{endpoint="/o2ims-infrastructureInventory/v1/resourcePools/{resourcePoolId}",method="GET"`) {
				t.Errorf("duration histogram missing")
			}
			if strings.Contains(body, poolA) {
				t.Errorf("raw path leaked into metric labels")
			}
		})
		t.Run("openapi", func(t *testing.T) {
			r := e.do(t, "GET", "/openapi/inventory.yaml")
			if r.status != 200 || !strings.Contains(string(r.body), "O2ims Infrastructure Inventory") {
				t.Errorf("yaml: %d", r.status)
			}
			r = e.do(t, "GET", "/openapi/inventory.json")
			var doc map[string]any
			if r.status != 200 || json.Unmarshal(r.body, &doc) != nil || doc["openapi"] == nil {
				t.Errorf("json: %d", r.status)
			}
			if r := e.do(t, "GET", "/openapi/common.cfg.yaml"); r.status != 404 {
				t.Errorf("codegen config served: %d", r.status)
			}
		})
	})
}
