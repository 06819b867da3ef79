package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// fuzzRoutes are the roots the fuzzer appends its path to, so that most
// requests reach a handler rather than the 404 of an unknown path.
var fuzzRoutes = []string{
	"/o2ims-infrastructureInventory/v1",
	"/o2ims-infrastructureInventory/v1/resourceTypes/",
	"/o2ims-infrastructureInventory/v1/resourcePools/",
	"/o2ims-infrastructureInventory/v1/resourcePools/" + poolA + "/resources/",
	"/o2ims-infrastructureInventory/v1/deploymentManagers/",
	"/o2ims-infrastructureInventory/v1/subscriptions/",
	"/o2ims-infrastructureInventory/v1/alarmDictionaries/",
	"/o2ims-infrastructureInventory/v2",
	"/o2ims-infrastructureInventory/v2/resourcePools/" + poolA + "/resources/",
	"/o2ims-infrastructureInventory/v2/locations/",
	"/o2ims-infrastructureInventory/v2/oCloudSites/",
	"/o2ims-infrastructureInventory/v2/subscriptions/",
	"/o2ims/v1/locations/",
	"/o2ims/v1/oCloudSites/",
	"/o2ims-infrastructureMonitoring/v1/alarms/",
	"/o2ims-infrastructureMonitoring/v1/alarmSubscriptions/",
	"/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration",
	"/o2ims/v1/resourcePools/",
	"/o2ims/v1/resources/",
	"/o2ims/v1/deployments/",
	"/o2ims/v1/cnfPackages/",
	"/o2ims/v1/cnfInstances/",
	"/o2ims/v1/lcmOpOccs/",
	"/o2ims/v1/advisor/recommendations/",
	"/o2ims/v1/metrics",
	"/internal/v1/alertmanager",
	"/",
	"/o2ims-infrastructureProvisioning/v1/provisioningRequests/",
	"/o2ims-infrastructureArtifacts/v1/managedInfrastructureTemplates/",
}

var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

var fuzzContentTypes = []string{"application/json", "application/merge-patch+json", "text/plain", "", "multipart/form-data; boundary=x"}

// goWords are pieces of Go's own error texts, which a client must never
// read in a problem detail.
var goWords = []string{"Go value", "Go struct", "*uuid", "uuid.UUID", "strconv.", "json: ", "runtime error", "invalid character", "goroutine", "panic", "<nil>", "%!"}

// FuzzAPI sends random methods, paths, queries and bodies to every API of
// the in-process server and asserts what a client is promised: no answer
// of 500 or above, every 4xx an RFC 7807 problem in the API's own words,
// and no panic.
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		route, method, ct uint8
		path, query       string
		body              []byte
	}{
		{0, 0, 0, "", "all_fields", nil},
		{0, 0, 0, "", "fields=(resourceId,WrongAttrName)", nil},
		{1, 0, 0, "", "filter=(eq,name,'x');(gt,extensions/a,1)&limit=2", nil},
		{2, 0, 0, poolA, "exclude_fields=extensions", nil},
		{5, 1, 0, "", "", []byte(`{"callback":"http://127.0.0.1:1/x","filter":"(eq,objectType,ResourcePool)"}`)},
		{5, 1, 0, "", "", []byte(`[1,2]`)},
		{7, 3, 1, "00000000-0000-4000-8000-000000000000", "", []byte(`{"alarmAcknowledged":"yes"}`)},
		{9, 2, 0, "", "", []byte(`{"retentionPeriod":-1}`)},
		{12, 1, 0, "", "", []byte(`{"name":"d","components":[{"name":"amf","vnfdId":"x","replicas":1e9}]}`)},
		{13, 1, 4, "", "", []byte("--x\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--x--\r\n")},
		{16, 1, 0, "", "", []byte(`{"intent":"` + strings.Repeat("amf ", 300) + `"}`)},
		{18, 1, 0, "", "", []byte(`{"alerts":[{"labels":{"alertname":1}}]}`)},
		{11, 0, 0, "%00", "nextpage_opaque_marker=%ff", nil},
		{10, 0, 0, "..%2f..%2fetc%2fpasswd", "", nil},
		{29, 1, 0, "", "", []byte(`{"provisioningRequestId":"00000000-0000-4000-8000-000000000001","name":"n","description":"","templateName":"kubernetes-namespace","templateVersion":"1.0.0","templateParameters":{"deploymentManagerId":1,"namespace":[],"quota":{"pods":1e400}}}`)},
		{30, 0, 0, "kubernetes-namespace.1.0.0/defaults", "fields=parameterSchema/properties", nil},
	}
	for _, s := range seeds {
		f.Add(s.route, s.method, s.ct, s.path, s.query, s.body)
	}
	e := newEnv(f, sqlstoretest.Backends()[0]) // SQLite: each fuzz worker has its own
	f.Fuzz(func(t *testing.T, route, method, ct uint8, path, query string, body []byte) {
		target := fuzzRoutes[int(route)%len(fuzzRoutes)] + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "http://ims.test"+target, bytes.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		if c := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]; c != "" && len(body) > 0 {
			req.Header.Set("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		status := rec.Code
		if status >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, target, status, rec.Body.Bytes())
		}
		if status < 400 || req.Method == "HEAD" {
			return
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: %d with Content-Type %q: %s", req.Method, target, status, ct, rec.Body.Bytes())
		}
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != status || p.Title == "" {
			t.Fatalf("%s %s: %d with a body that is not a problem: %s", req.Method, target, status, rec.Body.Bytes())
		}
		for _, w := range goWords {
			if strings.Contains(p.Detail, w) {
				t.Fatalf("%s %s: %d detail %q speaks Go (%q)", req.Method, target, status, p.Detail, w)
			}
		}
	})
}
