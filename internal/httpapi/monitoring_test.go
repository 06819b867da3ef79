package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const (
	mon        = "/o2ims-infrastructureMonitoring/v1"
	mergePatch = "application/merge-patch+json"
	jsonType   = "application/json"
)

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode object (status %d): %v: %s", r.status, err, r.body)
	}
	return out
}

// isProblem reports, as a test error, a response that is not an RFC 7807
// problem of status mentioning detail.
func (r response) isProblem(t *testing.T, what string, status int, detail string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: content type %q", what, ct)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Errorf("%s: problem not JSON: %s", what, r.body)
		return
	}
	if p["status"] != float64(status) || !strings.Contains(fmt.Sprint(p["detail"]), detail) {
		t.Errorf("%s: problem %s does not mention %q", what, r.body, detail)
	}
}

func body(s string) *strings.Reader { return strings.NewReader(s) }

// raise opens an alarm directly through the service.
func (e *env) raise(t *testing.T, c alarms.Condition) ims.AlarmEventRecord {
	t.Helper()
	r, err := e.alarms.Raise(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

func TestMonitoringAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		auto := alarms.Definition(alarms.ProviderDown)
		manual := alarms.Definition(alarms.ResourceDisappeared)
		a1 := e.raise(t, alarms.Condition{Fingerprint: "t/1", Definition: auto, Severity: ims.SeverityCritical, Extensions: ims.Extensions{"provider": "edge"}})
		a2 := e.raise(t, alarms.Condition{Fingerprint: "t/2", Definition: manual, Severity: ims.SeverityMinor, ResourceID: resID(0), ResourceTypeID: typeS})
		both := []string{a1.AlarmEventRecordID, a2.AlarmEventRecordID}
		slices.Sort(both)

		t.Run("versions", func(t *testing.T) {
			for _, p := range []string{"/o2ims-infrastructureMonitoring/api_versions", mon + "/api_versions"} {
				r := e.do(t, "GET", p)
				if r.status != 200 || !strings.Contains(string(r.body), `"uriPrefix":"/o2ims-infrastructureMonitoring/v1"`) || !strings.Contains(string(r.body), `"version":"1.0.0"`) {
					t.Errorf("%s: %d %s", p, r.status, r.body)
				}
			}
		})

		t.Run("list and filters", func(t *testing.T) {
			r := e.do(t, "GET", mon+"/alarms")
			items := r.list(t)
			if got := ids(items, "alarmEventRecordId"); !slices.Equal(got, both) {
				t.Fatalf("alarms %v, want %v", got, both)
			}
			for _, it := range items {
				// The O2ims alarm list shows extensions by default (the
				// compliance suite's alarm list schema requires them).
				if _, ok := it["extensions"].(map[string]any); !ok {
					t.Errorf("extensions missing by default: %v", it)
				}
				for _, k := range []string{"alarmDefinitionID", "probableCauseID", "alarmRaisedTime", "alarmAcknowledged", "resourceID", "perceivedSeverity"} {
					if _, ok := it[k]; !ok {
						t.Errorf("alarm lacks %s: %v", k, it)
					}
				}
			}
			r = e.do(t, "GET", mon+"/alarms?all_fields&filter=(eq,alarmEventRecordId,"+a1.AlarmEventRecordID+")")
			if it := r.list(t); len(it) != 1 || fmt.Sprint(it[0]["extensions"]) != "map[provider:edge]" {
				t.Errorf("all_fields: %v", it)
			}

			// RFC 3339 in another zone is normalised before comparing.
			raised, err := time.Parse(time.RFC3339Nano, a1.AlarmRaisedTime)
			if err != nil {
				t.Fatal(err)
			}
			inZone := url.QueryEscape(raised.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano))
			cases := []struct {
				filter string
				want   []string
			}{
				{"(eq,perceivedSeverity,0)", []string{a1.AlarmEventRecordID}},
				{"(lte,perceivedSeverity,2)", both},
				{"(eq,alarmAcknowledged,false)", both},
				{"(eq,alarmAcknowledged,true)", nil},
				{"(eq,resourceID," + resID(0) + ")", []string{a2.AlarmEventRecordID}},
				{"(eq,resourceID," + e.oCloudID + ")", []string{a1.AlarmEventRecordID}},
				{"(eq,resourceTypeID," + typeS + ")", []string{a2.AlarmEventRecordID}},
				{"(eq,alarmDefinitionID," + manual.AlarmDefinitionID + ")", []string{a2.AlarmEventRecordID}},
				{"(eq,probableCauseID," + auto.ProbableCauseID + ")", []string{a1.AlarmEventRecordID}},
				{"(eq,extensions/provider,edge)", []string{a1.AlarmEventRecordID}},
				{"(gt,alarmRaisedTime,2000-01-01T00:00:00Z)", both},
				{"(gt,alarmRaisedTime,2999-01-01T00:00:00Z)", nil},
				{"(gte,alarmRaisedTime," + inZone + ");(eq,alarmEventRecordId," + a1.AlarmEventRecordID + ")", []string{a1.AlarmEventRecordID}},
				{"(gt,alarmRaisedTime," + inZone + ");(eq,alarmEventRecordId," + a1.AlarmEventRecordID + ")", nil},
			}
			for _, c := range cases {
				r := e.do(t, "GET", mon+"/alarms?filter="+c.filter)
				if r.status != 200 {
					t.Errorf("%s: %d %s", c.filter, r.status, r.body)
					continue
				}
				got := ids(r.list(t), "alarmEventRecordId")
				slices.Sort(got)
				if !slices.Equal(got, c.want) {
					t.Errorf("%s: got %v, want %v", c.filter, got, c.want)
				}
			}
			// The Nephoran alias serves the same collection.
			r = e.do(t, "GET", "/o2ims/v1/alarms?filter=(eq,perceivedSeverity,2)")
			if got := ids(r.list(t), "alarmEventRecordId"); r.status != 200 || !slices.Equal(got, []string{a2.AlarmEventRecordID}) {
				t.Errorf("/o2ims/v1/alarms: %d %v", r.status, got)
			}
			e.do(t, "GET", "/o2ims/v1/alarms?filter=(eq,colour,red)").isProblem(t, "alias bad filter", 400, "colour")
			e.do(t, "GET", mon+"/alarms?filter=(eq,colour,red)").isProblem(t, "bad filter", 400, "colour")
			e.do(t, "GET", mon+"/alarms?filter=(eq,resourceId,x)").isProblem(t, "inventory spelling", 400, "resourceId")
			e.do(t, "GET", mon+"/alarms?filter=(gt,alarmRaisedTime,yesterday)").isProblem(t, "bad time", 400, "yesterday")
			e.do(t, "GET", mon+"/alarms?filter=(gt,alarmAcknowledged,false)").isProblem(t, "ordering a bool", 400, "alarmAcknowledged")
			e.do(t, "GET", mon+"/alarms?limit=0").isProblem(t, "limit 0", 400, "limit")

			// Paging.
			r = e.do(t, "GET", mon+"/alarms?limit=1")
			if len(r.list(t)) != 1 || !strings.Contains(r.header.Get("Link"), "nextpage_opaque_marker") {
				t.Errorf("paging: %s, Link %q", r.body, r.header.Get("Link"))
			}
		})

		t.Run("get", func(t *testing.T) {
			r := e.do(t, "GET", mon+"/alarms/"+a2.AlarmEventRecordID)
			o := r.object(t)
			if r.status != 200 || o["alarmEventRecordId"] != a2.AlarmEventRecordID || o["resourceID"] != resID(0) ||
				o["resourceTypeID"] != typeS || o["perceivedSeverity"] != float64(2) || o["alarmAcknowledged"] != false ||
				o["alarmDefinitionID"] != manual.AlarmDefinitionID || o["probableCauseID"] != manual.ProbableCauseID {
				t.Errorf("get: %d %s", r.status, r.body)
			}
			if o["alarmRaisedTime"] != a2.AlarmRaisedTime {
				t.Errorf("alarmRaisedTime %v, stored %s", o["alarmRaisedTime"], a2.AlarmRaisedTime)
			}
			e.do(t, "GET", mon+"/alarms/00000000-0000-4000-8000-000000000000").isProblem(t, "unknown alarm", 404, "not found")
			e.do(t, "GET", mon+"/alarms/not-a-uuid").isProblem(t, "bad uuid", 400, "alarmEventRecordId")
		})

		t.Run("patch", func(t *testing.T) {
			p1 := mon + "/alarms/" + a1.AlarmEventRecordID
			r := e.send(t, "PATCH", p1, mergePatch, body(`{"alarmAcknowledged":true}`))
			if r.status != 200 || r.object(t)["alarmAcknowledged"] != true || len(r.object(t)) != 1 {
				t.Errorf("ack: %d %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != mergePatch {
				t.Errorf("ack content type %q", ct)
			}
			o := e.do(t, "GET", p1).object(t)
			if o["alarmAcknowledged"] != true || o["alarmAcknowledgedTime"] == nil {
				t.Errorf("after ack: %v", o)
			}
			got := ids(e.do(t, "GET", mon+"/alarms?filter=(eq,alarmAcknowledged,true)").list(t), "alarmEventRecordId")
			if !slices.Equal(got, []string{a1.AlarmEventRecordID}) {
				t.Errorf("acknowledged filter: %v", got)
			}
			got = ids(e.do(t, "GET", mon+"/alarms?filter=(gt,alarmAcknowledgedTime,2000-01-01T00:00:00Z)").list(t), "alarmEventRecordId")
			if !slices.Equal(got, []string{a1.AlarmEventRecordID}) {
				t.Errorf("acknowledged time filter: %v", got)
			}
			e.send(t, "PATCH", p1, mergePatch, body(`{"alarmAcknowledged":true}`)).isProblem(t, "ack twice", 409, "acknowledged already")
			e.send(t, "PATCH", p1, mergePatch, body(`{"perceivedSeverity":5}`)).isProblem(t, "clear automatic", 409, "automatically")
			e.send(t, "PATCH", p1, mergePatch, body(`{"alarmAcknowledged":true,"perceivedSeverity":5}`)).isProblem(t, "both", 400, "exactly one")
			e.send(t, "PATCH", p1, mergePatch, body(`{}`)).isProblem(t, "none", 400, "exactly one")
			e.send(t, "PATCH", p1, mergePatch, body(`{"alarmAcknowledged":false}`)).isProblem(t, "ack false", 400, "alarmAcknowledged")
			e.send(t, "PATCH", p1, mergePatch, body(`{"perceivedSeverity":3}`)).isProblem(t, "severity 3", 400, "perceivedSeverity")
			e.send(t, "PATCH", p1, mergePatch, body(`{"perceivedSeverity":9}`)).isProblem(t, "severity 9", 400, "perceivedSeverity")

			p2 := mon + "/alarms/" + a2.AlarmEventRecordID
			r = e.send(t, "PATCH", p2, mergePatch, body(`{"perceivedSeverity":5}`))
			if r.status != 200 || r.object(t)["perceivedSeverity"] != float64(5) {
				t.Errorf("clear manual: %d %s", r.status, r.body)
			}
			o = e.do(t, "GET", p2).object(t)
			if o["perceivedSeverity"] != float64(5) || o["alarmClearedTime"] == nil {
				t.Errorf("after clear: %v", o)
			}
			e.send(t, "PATCH", p2, mergePatch, body(`{"perceivedSeverity":5}`)).isProblem(t, "clear twice", 409, "cleared already")
			e.send(t, "PATCH", mon+"/alarms/00000000-0000-4000-8000-000000000000", mergePatch, body(`{"alarmAcknowledged":true}`)).isProblem(t, "unknown", 404, "not found")
			e.send(t, "PATCH", mon+"/alarms/nope", mergePatch, body(`{"alarmAcknowledged":true}`)).isProblem(t, "bad uuid", 400, "alarmEventRecordId")
		})

		t.Run("service configuration", func(t *testing.T) {
			p := mon + "/alarmServiceConfiguration"
			r := e.do(t, "GET", p)
			if r.status != 200 || r.object(t)["retentionPeriod"] != float64(30) {
				t.Errorf("default: %d %s", r.status, r.body)
			}
			r = e.send(t, "PUT", p, jsonType, body(`{"retentionPeriod":7,"extensions":{"a":"x","b":1}}`))
			if o := r.object(t); r.status != 200 || o["retentionPeriod"] != float64(7) || fmt.Sprint(o["extensions"]) != "map[a:x b:1]" {
				t.Errorf("put: %d %s", r.status, r.body)
			}
			e.send(t, "PUT", p, jsonType, body(`{"retentionPeriod":0}`)).isProblem(t, "put 0", 400, "retentionPeriod")
			e.send(t, "PUT", p, jsonType, body(`{}`)).isProblem(t, "put without retention", 400, "retentionPeriod")
			r = e.send(t, "PATCH", p, mergePatch, body(`{"extensions":{"a":null,"c":true}}`))
			if o := r.object(t); r.status != 200 || o["retentionPeriod"] != float64(7) || fmt.Sprint(o["extensions"]) != "map[b:1 c:true]" {
				t.Errorf("patch: %d %s", r.status, r.body)
			}
			r = e.send(t, "PATCH", p, mergePatch, body(`{"retentionPeriod":3}`))
			if o := r.object(t); r.status != 200 || o["retentionPeriod"] != float64(3) || fmt.Sprint(o["extensions"]) != "map[b:1 c:true]" {
				t.Errorf("patch retention: %d %s", r.status, r.body)
			}
			e.send(t, "PATCH", p, mergePatch, body(`{"retentionPeriod":0}`)).isProblem(t, "patch 0", 400, "retentionPeriod")
			if o := e.do(t, "GET", p).object(t); o["retentionPeriod"] != float64(3) {
				t.Errorf("after refused patch: %v", o)
			}
		})

		t.Run("probable causes", func(t *testing.T) {
			r := e.do(t, "GET", mon+"/alarmProbableCauses")
			if items := r.list(t); r.status != 200 || len(items) != len(alarms.ProbableCauses) {
				t.Errorf("list: %d %s", r.status, r.body)
			}
			r = e.do(t, "GET", mon+"/alarmProbableCauses?filter=(eq,name,'External%20alert')")
			ext := alarms.Definition(alarms.ExternalAlert).ProbableCauseID
			if got := ids(r.list(t), "probableCauseId"); !slices.Equal(got, []string{ext}) {
				t.Errorf("filter: %v", got)
			}
			r = e.do(t, "GET", mon+"/alarmProbableCauses/"+ext)
			if o := r.object(t); r.status != 200 || o["name"] != "External alert" || o["description"] == "" {
				t.Errorf("get: %d %s", r.status, r.body)
			}
			e.do(t, "GET", mon+"/alarmProbableCauses/00000000-0000-4000-8000-000000000000").isProblem(t, "unknown cause", 404, "not found")
			e.do(t, "GET", mon+"/alarmProbableCauses/x").isProblem(t, "bad cause id", 400, "probableCauseId")
			e.do(t, "GET", mon+"/alarmProbableCauses?filter=(eq,colour,red)").isProblem(t, "cause filter", 400, "colour")
		})

		t.Run("alarm dictionaries", func(t *testing.T) {
			dictID := alarms.Dictionary.AlarmDictionaryID
			r := e.do(t, "GET", inv+"/alarmDictionaries")
			items := r.list(t)
			if r.status != 200 || !slices.Equal(ids(items, "alarmDictionaryId"), []string{dictID}) {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			r = e.do(t, "GET", inv+"/alarmDictionaries?filter=(eq,vendor,nobody)")
			if items := r.list(t); len(items) != 0 {
				t.Errorf("vendor filter: %v", items)
			}
			r = e.do(t, "GET", inv+"/alarmDictionaries/"+dictID)
			o := r.object(t)
			defs, _ := o["alarmDefinition"].([]any)
			if r.status != 200 || len(defs) != len(alarms.Dictionary.AlarmDefinition) {
				t.Fatalf("get: %d %s", r.status, r.body)
			}
			names := map[string]string{}
			for _, d := range defs {
				d := d.(map[string]any)
				names[fmt.Sprint(d["alarmName"])] = fmt.Sprint(d["clearingType"])
			}
			if names[alarms.ProviderDown] != "AUTOMATIC" || names[alarms.ResourceDisappeared] != "MANUAL" {
				t.Errorf("definitions %v", names)
			}
			r = e.do(t, "GET", inv+"/resourceTypes/"+typeS+"/alarmDictionary")
			if r.status != 200 || r.object(t)["alarmDictionaryId"] != dictID {
				t.Errorf("resource type dictionary: %d %s", r.status, r.body)
			}
			e.do(t, "GET", inv+"/resourceTypes/00000000-0000-4000-8000-000000000000/alarmDictionary").isProblem(t, "unknown type", 404, "not found")
			e.do(t, "GET", inv+"/alarmDictionaries/00000000-0000-4000-8000-000000000000").isProblem(t, "unknown dictionary", 404, "not found")
			e.do(t, "GET", inv+"/alarmDictionaries/zz").isProblem(t, "bad dictionary id", 400, "alarmDictionaryId")
		})
	})
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "alarms", "testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAlertmanagerEndpoint(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		const am = "/internal/v1/alertmanager"
		// Point the fixture's resource_id at a resource of this inventory.
		firing := strings.ReplaceAll(readFixture(t, "firing_resource.json"), "70000000-0000-4000-8000-000000000002", resID(3))
		resolved := strings.ReplaceAll(readFixture(t, "resolved_resource.json"), "70000000-0000-4000-8000-000000000002", resID(3))

		r := e.send(t, "POST", am, jsonType, body(firing))
		if r.status != 200 || r.object(t)["raised"] != float64(1) {
			t.Fatalf("firing: %d %s", r.status, r.body)
		}
		list := e.do(t, "GET", mon+"/alarms?filter=(eq,resourceID,"+resID(3)+")").list(t)
		if len(list) != 1 || list[0]["perceivedSeverity"] != float64(0) || list[0]["resourceTypeID"] != typeS {
			t.Fatalf("alarm from alert: %v", list)
		}
		id := fmt.Sprint(list[0]["alarmEventRecordId"])
		// Repeated: still one.
		e.send(t, "POST", am, jsonType, body(firing))
		if list := e.do(t, "GET", mon+"/alarms").list(t); len(list) != 1 {
			t.Errorf("repeat: %d alarms", len(list))
		}
		r = e.send(t, "POST", am, jsonType, body(resolved))
		if r.status != 200 || r.object(t)["resolved"] != float64(1) {
			t.Fatalf("resolved: %d %s", r.status, r.body)
		}
		if o := e.do(t, "GET", mon+"/alarms/"+id).object(t); o["perceivedSeverity"] != float64(5) || o["alarmClearedTime"] == nil {
			t.Errorf("after resolved: %v", o)
		}

		e.send(t, "POST", am, jsonType, body(`{"version":"4","alerts":[`)).isProblem(t, "malformed", 400, "Alertmanager")
		e.send(t, "POST", am, jsonType, body(``)).isProblem(t, "empty", 400, "Alertmanager")
		e.send(t, "POST", am, jsonType, body(`{"version":4}`)).isProblem(t, "version as number", 400, "version")
		e.send(t, "POST", am, jsonType, body(`{"version":"4","alerts":{}}`)).isProblem(t, "alerts as object", 400, "alerts")
		e.send(t, "POST", am, jsonType, body(strings.Replace(firing, `"version": "4"`, `"version": "3"`, 1))).isProblem(t, "version 3", 400, "version")
		e.send(t, "POST", am, jsonType, body(strings.Replace(firing, `"status": "firing",
      "labels"`, `"status": "active",
      "labels"`, 1))).isProblem(t, "bad status", 400, "status")
		e.do(t, "GET", am).isProblem(t, "GET", 405, "GET")
	})
}

// Client mistakes are 4xx problems on every endpoint that takes a body,
// never a 500.
func TestBodyMistakes(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		a := e.raise(t, alarms.Condition{Fingerprint: "t/1", Definition: alarms.Definition(alarms.ProviderDown), Severity: ims.SeverityMajor})
		huge := `{"callback":"http://127.0.0.1/` + strings.Repeat("x", 1<<20) + `"}`
		endpoints := []struct{ method, path, ct string }{
			{"POST", inv + "/subscriptions", jsonType},
			{"POST", mon + "/alarmSubscriptions", jsonType},
			{"PATCH", mon + "/alarms/" + a.AlarmEventRecordID, mergePatch},
			{"PUT", mon + "/alarmServiceConfiguration", jsonType},
			{"PATCH", mon + "/alarmServiceConfiguration", mergePatch},
			{"POST", "/internal/v1/alertmanager", jsonType},
		}
		bodies := map[string]string{
			"empty":          ``,
			"null":           `null`,
			"array":          `[]`,
			"string":         `"x"`,
			"truncated":      `{"callback":`,
			"not JSON":       `callback=http://x`,
			"wrong types":    `{"callback":1,"filter":[],"alarmAcknowledged":"yes","perceivedSeverity":"5","retentionPeriod":"7","extensions":[1],"version":4,"alerts":"none"}`,
			"float severity": `{"perceivedSeverity":5.5,"retentionPeriod":1.5}`,
			"overflow":       `{"perceivedSeverity":1e30,"retentionPeriod":1e30}`,
			"over 1 MiB":     huge,
		}
		for _, ep := range endpoints {
			for name, bd := range bodies {
				if name == "null" && ep.method == "PATCH" && strings.HasSuffix(ep.path, "/alarmServiceConfiguration") {
					// Decodes like {}, an empty merge patch: a no-op.
					continue
				}
				r := e.send(t, ep.method, ep.path, ep.ct, body(bd))
				if r.status < 400 || r.status >= 500 {
					t.Errorf("%s %s with %s body: status %d: %.200s", ep.method, ep.path, name, r.status, r.body)
					continue
				}
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s %s with %s body: content type %q", ep.method, ep.path, name, ct)
				}
				if name == "over 1 MiB" && r.status != 413 {
					t.Errorf("%s %s with %s body: status %d, want 413", ep.method, ep.path, name, r.status)
				}
			}
		}
		// Nothing was changed by the refused requests.
		if o := e.do(t, "GET", mon+"/alarms/"+a.AlarmEventRecordID).object(t); o["alarmAcknowledged"] != false || o["perceivedSeverity"] != float64(1) {
			t.Errorf("alarm changed: %v", o)
		}
		if o := e.do(t, "GET", mon+"/alarmServiceConfiguration").object(t); o["retentionPeriod"] != float64(30) {
			t.Errorf("configuration changed: %v", o)
		}
		for _, p := range []string{inv + "/subscriptions", mon + "/alarmSubscriptions"} {
			if l := e.do(t, "GET", p).list(t); len(l) != 0 {
				t.Errorf("%s: subscriptions created: %v", p, l)
			}
		}
	})
}
