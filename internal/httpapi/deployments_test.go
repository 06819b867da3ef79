package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const deps = "/o2ims/v1/deployments"

// TestDeploymentAPIProblems sends the deployments API and the pool
// capacity query what a client gets wrong, and checks each answer is a
// problem in the API's words with the right status, and that nothing was
// stored.
func TestDeploymentAPIProblems(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		one := 1
		if _, err := e.lcm.CreatePackage(context.Background(), lcm.PackageInput{
			Name: "app", Version: "1", VnfdInfo: lcm.VnfdInfo{VnfdID: "vnfd-app"},
			Flavours: []lcm.Flavour{{FlavourID: "small", Replicas: &one, Resources: &lcm.Resources{CPU: "100m"}}},
		}, cnftest.HelmChart(t)); err != nil {
			t.Fatal(err)
		}
		unknown := "00000000-0000-4000-8000-000000000000"
		cases := []struct {
			method, path, contentType, body string
			status                          int
			detail                          string
		}{
			{"POST", deps, "application/json", `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app"}],"colour":"red"}`, 400, "colour"},
			{"POST", deps, "application/json", `{"name":"core","components":[]}`, 400, "components"},
			{"POST", deps, "application/json", `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app","replicas":"two"}]}`, 400, "replicas"},
			{"POST", deps, "application/json", `{"name":"core"`, 400, "body"},
			{"POST", deps, "text/plain", `name: core`, 415, "application/json"},
			{"POST", deps, "application/json", `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-none"}]}`, 422, "vnfd-none"},
			{"POST", deps, "application/json", `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app"}],"placement":{"poolSelector":"a in (("}}`, 400, "placement.poolSelector"},
			// The fixture's pools have no Kubernetes deployment manager.
			{"POST", deps, "application/json", `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app"}]}`, 422, "no deployment manager that runs CNFs serves it"},
			{"POST", deps, "application/json", `{"name":"core","dryRun":true,"components":[{"name":"amf","vnfdId":"vnfd-app"}]}`, 422, "no resource pool is eligible"},
			{"GET", deps + "/not-a-uuid", "", "", 400, "deploymentId"},
			{"GET", deps + "/" + unknown, "", "", 404, "not found"},
			{"PATCH", deps + "/" + unknown, "application/merge-patch+json", `{"description":"x"}`, 404, "not found"},
			{"PATCH", deps + "/" + unknown, "application/merge-patch+json", `{"components":[{"name":"amf","replicas":0}]}`, 400, "replicas"},
			{"PUT", deps + "/" + unknown + "/status", "application/json", `{"phase":"ACTIVE"}`, 404, "not found"},
			{"PUT", deps + "/" + unknown + "/status", "application/json", `{"phase":"RUNNING"}`, 400, "phase"},
			{"DELETE", deps + "/" + unknown, "", "", 404, "not found"},
			{"GET", deps + "?filter=(eq,colour,red)", "", "", 400, "colour"},
			{"GET", "/o2ims/v1/resourcePools?minCapacity=gpu:1", "", "", 400, "minCapacity"},
			{"POST", "/o2ims/v1/advisor/recommendations", "application/json", `{}`, 400, "intent is required"},
			{"POST", "/o2ims/v1/advisor/recommendations", "application/json", `{"intent":"AMF","replicas":"2"}`, 400, "replicas must be an integer"},
			{"POST", "/o2ims/v1/advisor/recommendations", "application/json", `{"intent":"speed it all up"}`, 422, "names no network function"},
			{"POST", "/o2ims/v1/advisor/recommendations", "application/json", `{"intent":"deploy the AMF"}`, 422, "amf"},
			{"GET", "/o2ims/v1/advisor/recommendations/" + unknown, "", "", 404, "not found"},
			{"GET", inv + "/resourcePools?minCapacity=cpu:lots", "", "", 400, `cpu "lots" is not a quantity`},
		}
		for _, c := range cases {
			var r response
			if c.body == "" {
				r = e.do(t, c.method, c.path)
			} else {
				r = e.send(t, c.method, c.path, c.contentType, strings.NewReader(c.body))
			}
			if r.status != c.status {
				t.Errorf("%s %s %s: status %d, want %d: %s", c.method, c.path, c.body, r.status, c.status, r.body)
				continue
			}
			var p map[string]any
			if err := json.Unmarshal(r.body, &p); err != nil || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: not a problem: %s", c.method, c.path, r.body)
				continue
			}
			detail := fmt.Sprint(p["detail"])
			if !strings.Contains(detail, c.detail) {
				t.Errorf("%s %s %s: detail %q does not mention %q", c.method, c.path, c.body, detail, c.detail)
			}
			for _, leak := range []string{"json: ", "deployment.", "struct", "sql"} {
				if strings.Contains(detail, leak) {
					t.Errorf("%s %s: detail %q leaks %q", c.method, c.path, detail, leak)
				}
			}
		}
		if r := e.do(t, "GET", deps); r.status != 200 || len(r.list(t)) != 0 {
			t.Errorf("deployments after refused requests: %d %s", r.status, r.body)
		}
		// Pools without capacity figures never have room.
		if r := e.do(t, "GET", "/o2ims/v1/resourcePools?minCapacity=cpu:1"); r.status != 200 || len(r.list(t)) != 0 {
			t.Errorf("pools with 1 free cpu: %d %s", r.status, r.body)
		}
		if r := e.do(t, "GET", "/o2ims/v1/resourcePools?minCapacity=pods:0"); r.status != 200 || len(r.list(t)) != 0 {
			t.Errorf("pools with 0 free pods: %d %s", r.status, r.body)
		}
	})
}

// The Nephoran objects' own GETs take the attribute selectors their
// collections take, validated the same way.
func TestNephoranObjectSelectors(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		one := 1
		pkg, err := e.lcm.CreatePackage(context.Background(), lcm.PackageInput{
			Name: "app", Version: "1", VnfdInfo: lcm.VnfdInfo{VnfdID: "vnfd-app"},
			Flavours: []lcm.Flavour{{FlavourID: "small", Replicas: &one, Resources: &lcm.Resources{CPU: "100m"}}},
		}, cnftest.HelmChart(t))
		if err != nil {
			t.Fatal(err)
		}
		path := "/o2ims/v1/cnfPackages/" + pkg.PackageID
		whole := e.do(t, "GET", path).object(t)
		if whole["name"] != "app" || whole["vnfdInfo"] == nil {
			t.Fatalf("package %v", whole)
		}
		only := e.do(t, "GET", path+"?fields=vnfdInfo").object(t)
		if only["vnfdInfo"] == nil || only["name"] != "app" {
			t.Errorf("fields=vnfdInfo: %v", only)
		}
		without := e.do(t, "GET", path+"?exclude_fields=vnfdInfo").object(t)
		if _, ok := without["vnfdInfo"]; ok || without["name"] != "app" {
			t.Errorf("exclude_fields=vnfdInfo: %v", without)
		}
		for _, p := range []string{path + "?fields=(WrongAttrName)", "/o2ims/v1/deployments?fields=(WrongAttrName)"} {
			if r := e.do(t, "GET", p); r.status != 400 || !strings.Contains(string(r.body), "WrongAttrName") {
				t.Errorf("%s: %d %s", p, r.status, r.body)
			}
		}
	})
}
