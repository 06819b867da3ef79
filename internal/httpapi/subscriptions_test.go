package httpapi_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// subscriptionAPI describes one of the two subscription collections.
type subscriptionAPI struct {
	name       string
	collection string // path of the collection
	idKey      string
	// filters valid and invalid for this kind of subscription
	valid   []string
	invalid map[string]string // filter → what the problem must mention
}

var subscriptionAPIs = []subscriptionAPI{
	{
		name: "inventory", collection: inv + "/subscriptions", idKey: "subscriptionId",
		valid: []string{"(eq,objectType,Resource)", "(eq,notificationEventType,DELETE);(eq,resourcePoolId," + poolA + ")", "(eq,extensions/site,east-1)"},
		invalid: map[string]string{
			"(eq,colour,red)":                             "colour",
			"(eq,objectType,Alarm)":                       "Alarm",
			"(eq,notificationEventType,NEW)":              "NEW",
			"(eq,perceivedSeverity,0)":                    "perceivedSeverity",
			"(gt,notificationEventType,1)":                "notificationEventType",
			"(eq,name,'open":                              "quote",
			"(eq,objectType,Resource);(eq,location,east)": "location",
		},
	},
	{
		name: "alarm", collection: mon + "/alarmSubscriptions", idKey: "alarmSubscriptionId",
		valid: []string{"(eq,notificationEventType,NEW)", "(in,notificationEventType,CLEAR,ACKNOWLEDGE);(lte,perceivedSeverity,1)", "(eq,extensions/provider,edge)"},
		invalid: map[string]string{
			"(eq,objectType,Resource)":          "objectType",
			"(eq,colour,red)":                   "colour",
			"(eq,notificationEventType,DELETE)": "DELETE",
			"(eq,notificationEventType,4)":      "notificationEventType",
			"(eq,resourcePoolId," + poolA + ")": "resourcePoolId",
		},
	},
}

func subBody(callback, filter string) string {
	m := map[string]any{"callback": callback}
	if filter != "" {
		m["filter"] = filter
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestSubscriptionsAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		for _, api := range subscriptionAPIs {
			t.Run(api.name, func(t *testing.T) { testSubscriptions(t, e, api) })
		}
		t.Run("streams are apart", func(t *testing.T) {
			r := e.send(t, "POST", inv+"/subscriptions", jsonType, body(subBody("http://127.0.0.1:9/apart", "")))
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			id := r.object(t)["subscriptionId"].(string)
			e.do(t, "GET", mon+"/alarmSubscriptions/"+id).isProblem(t, "inventory subscription as alarm subscription", 404, "not found")
			e.do(t, "DELETE", mon+"/alarmSubscriptions/"+id).isProblem(t, "delete across streams", 404, "not found")
			if r := e.do(t, "GET", inv+"/subscriptions/"+id); r.status != 200 {
				t.Errorf("deleted across streams: %d", r.status)
			}
			// The same callback and filter on the other stream is another subscription.
			if r := e.send(t, "POST", mon+"/alarmSubscriptions", jsonType, body(subBody("http://127.0.0.1:9/apart", ""))); r.status != 201 {
				t.Errorf("same callback on the alarm stream: %d %s", r.status, r.body)
			}
		})
	})
}

func testSubscriptions(t *testing.T, e *env, api subscriptionAPI) {
	cb := "http://127.0.0.1:9/notify/" + api.name
	r := e.send(t, "POST", api.collection, jsonType, body(`{"callback":"`+cb+`","filter":"`+api.valid[0]+`","consumerSubscriptionId":"c-1"}`))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.object(t)
	id, _ := created[api.idKey].(string)
	if id == "" || created["callback"] != cb || created["filter"] != api.valid[0] || created["consumerSubscriptionId"] != "c-1" {
		t.Errorf("created %s", r.body)
	}
	if loc := r.header.Get("Location"); loc != api.collection+"/"+id {
		t.Errorf("Location %q, want %q", loc, api.collection+"/"+id)
	}
	one := api.collection + "/" + id

	// The same callback and filter again is a conflict; another filter is not.
	e.send(t, "POST", api.collection, jsonType, body(subBody(cb, api.valid[0]))).isProblem(t, "duplicate", 400, "exists already")
	for _, f := range api.valid[1:] {
		if r := e.send(t, "POST", api.collection, jsonType, body(subBody(cb, f))); r.status != 201 {
			t.Errorf("create with %s: %d %s", f, r.status, r.body)
		}
	}
	other := "https://192.0.2.10:8443/hooks?token=abc"
	if r := e.send(t, "POST", api.collection, jsonType, body(subBody(other, ""))); r.status != 201 {
		t.Errorf("create without filter: %d %s", r.status, r.body)
	}

	// Client mistakes.
	e.send(t, "POST", api.collection, jsonType, body(`{"filter":"`+api.valid[0]+`"}`)).isProblem(t, "missing callback", 400, "callback")
	e.send(t, "POST", api.collection, jsonType, body(`{"callback":""}`)).isProblem(t, "empty callback", 400, "callback")
	e.send(t, "POST", api.collection, jsonType, body(subBody("http://169.254.169.254/latest/meta-data/", ""))).isProblem(t, "metadata callback", 400, "169.254.169.254")
	e.send(t, "POST", api.collection, jsonType, body(subBody("http://[fe80::1]/cb", ""))).isProblem(t, "link-local callback", 400, "callback")
	e.send(t, "POST", api.collection, jsonType, body(subBody("ftp://127.0.0.1/cb", ""))).isProblem(t, "ftp callback", 400, "http")
	e.send(t, "POST", api.collection, jsonType, body(subBody("/relative/cb", ""))).isProblem(t, "relative callback", 400, "callback")
	e.send(t, "POST", api.collection, jsonType, body(subBody("http://user:pw@127.0.0.1/cb", ""))).isProblem(t, "credentials", 400, "credentials")
	e.send(t, "POST", api.collection, jsonType, body(subBody("http://127.0.0.1/"+strings.Repeat("x", 2100), ""))).isProblem(t, "long callback", 400, "2048")
	e.send(t, "POST", api.collection, jsonType, body(subBody(cb, "(eq,callback,"+strings.Repeat("x", 4100)+")"))).isProblem(t, "long filter", 400, "4096")
	e.send(t, "POST", api.collection, jsonType, body(`{"callback":42}`)).isProblem(t, "callback number", 400, "callback")
	for f, detail := range api.invalid {
		e.send(t, "POST", api.collection, jsonType, body(subBody(cb+"/bad", f))).isProblem(t, "filter "+f, 400, detail)
	}

	// Listing: extensions (the delivery status) only when asked for.
	r = e.do(t, "GET", api.collection)
	all := r.list(t)
	if r.status != 200 || len(all) != len(api.valid)+1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	for _, it := range all {
		if _, ok := it["extensions"]; ok {
			t.Errorf("extensions listed by default: %v", it)
		}
	}
	q := url.QueryEscape("(eq,callback,'" + other + "')")
	r = e.do(t, "GET", api.collection+"?all_fields&filter="+q)
	items := r.list(t)
	if r.status != 200 || len(items) != 1 || items[0]["callback"] != other {
		t.Fatalf("filter on callback: %d %s", r.status, r.body)
	}
	if state := deliveryState(items[0]); state != "healthy" {
		t.Errorf("listed delivery status: %v", items[0]["extensions"])
	}
	r = e.do(t, "GET", api.collection+"?filter=(eq,consumerSubscriptionId,c-1)")
	if got := ids(r.list(t), api.idKey); !slices.Equal(got, []string{id}) {
		t.Errorf("filter on consumerSubscriptionId: %v", got)
	}
	r = e.do(t, "GET", api.collection+"?fields=extensions/deliveryStatus&filter=(eq,consumerSubscriptionId,c-1)")
	if items := r.list(t); len(items) != 1 || deliveryState(items[0]) != "healthy" {
		t.Errorf("fields=extensions/deliveryStatus: %s", r.body)
	}
	e.do(t, "GET", api.collection+"?filter=(eq,colour,red)").isProblem(t, "list filter", 400, "colour")

	// One subscription: the delivery status is always there.
	r = e.do(t, "GET", one)
	o := r.object(t)
	if r.status != 200 || o[api.idKey] != id || o["callback"] != cb || deliveryState(o) != "healthy" {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	st := o["extensions"].(map[string]any)["deliveryStatus"].(map[string]any)
	if st["delivered"] != float64(0) || st["expired"] != float64(0) {
		t.Errorf("fresh delivery status %v", st)
	}
	e.do(t, "GET", api.collection+"/00000000-0000-4000-8000-000000000000").isProblem(t, "unknown", 404, "not found")
	e.do(t, "GET", api.collection+"/nope").isProblem(t, "bad id", 400, api.idKey)

	// Delete.
	if r := e.do(t, "DELETE", one); r.status != 200 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	e.do(t, "GET", one).isProblem(t, "get deleted", 404, "not found")
	e.do(t, "DELETE", one).isProblem(t, "delete twice", 404, "not found")
	e.do(t, "DELETE", api.collection+"/nope").isProblem(t, "delete bad id", 400, api.idKey)
	// Deleted, the same callback and filter may subscribe again.
	if r := e.send(t, "POST", api.collection, jsonType, body(subBody(cb, api.valid[0]))); r.status != 201 {
		t.Errorf("re-create after delete: %d %s", r.status, r.body)
	}
	e.do(t, "PUT", one).isProblem(t, "PUT", 405, "PUT")
}

func deliveryState(o map[string]any) any {
	ext, _ := o["extensions"].(map[string]any)
	st, _ := ext["deliveryStatus"].(map[string]any)
	return st["state"]
}

// TestUnknownBodyFieldsRefused: a misspelt or unknown attribute in a JSON
// body is a 400 naming it, not silently dropped.
func TestUnknownBodyFieldsRefused(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		for _, c := range []struct{ method, path, ctype, body, field string }{
			{"POST", inv + "/subscriptions", "application/json", `{"callback":"http://127.0.0.1:9/cb","filtre":"(eq,name,x)"}`, "filtre"},
			{"POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", "application/json", `{"callback":"http://127.0.0.1:9/cb","colour":1}`, "colour"},
			{"PUT", "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", "application/json", `{"retentionPeriod":3,"retention":4}`, "retention"},
			{"PATCH", "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", "application/merge-patch+json", `{"retentionDays":3}`, "retentionDays"},
		} {
			r := e.send(t, c.method, c.path, c.ctype, strings.NewReader(c.body))
			if r.status != 400 || !strings.Contains(string(r.body), c.field) {
				t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.body)
			}
		}
		// The same bodies without the stray field are accepted.
		if r := e.send(t, "POST", inv+"/subscriptions", "application/json", strings.NewReader(`{"callback":"http://127.0.0.1:9/cb","filter":"(eq,objectType,ResourcePool)"}`)); r.status != 201 {
			t.Errorf("valid subscription: %d %s", r.status, r.body)
		}
	})
}
