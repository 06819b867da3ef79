package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const (
	prov = "/o2ims-infrastructureProvisioning"
	arts = "/o2ims-infrastructureArtifacts"
)

// fixtureClusters knows the fixture's deployment manager as a cluster;
// the handler tests never reach it.
type fixtureClusters struct{}

func (fixtureClusters) RESTConfig(_ context.Context, id string) (*rest.Config, error) {
	if id == dmID {
		return &rest.Config{Host: "https://127.0.0.1:1"}, nil
	}
	return nil, ims.Errorf(ims.ENOTFOUND, "deployment manager %q not found", id)
}

// newProvisioning is the provisioning service of newEnv: the built-in
// templates, the namespace realizer; its worker does not run.
func newProvisioning(t testing.TB, store *sqlstore.Store, logger *slog.Logger) *provisioning.Service {
	t.Helper()
	cat, err := provisioning.LoadCatalog("")
	if err != nil {
		t.Fatal(err)
	}
	return provisioning.NewService(store, cat, provisioning.Options{Realizers: map[string]provisioning.Realizer{
		provisioning.KindNamespace: provisioning.NewNamespaceRealizer(fixtureClusters{}, logger),
	}}, logger, nil)
}

func provBody(id, ns string, extra string) string {
	return fmt.Sprintf(`{"provisioningRequestId":%q,"name":"team a","description":"","templateName":"kubernetes-namespace","templateVersion":"1.0.0","templateParameters":{"deploymentManagerId":%q,"namespace":%q%s}}`, id, dmID, ns, extra)
}

// TestProvisioningAPI creates, reads, lists, changes and deletes a
// provisioning request through the handlers, and checks every mistake is
// a problem in the API's words with the right status.
func TestProvisioningAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newEnv(t, b)
		id := "7d1e0a3c-2b4f-4c5d-8e6f-0a1b2c3d4e5f"
		other := "00000000-0000-4000-8000-000000000009"
		r := e.send(t, "POST", prov+"/v1/provisioningRequests", "application/json", strings.NewReader(provBody(id, "team-a", "")))
		if r.status != 201 || r.header.Get("Location") != prov+"/v1/provisioningRequests/"+id {
			t.Fatalf("create: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		var info map[string]any
		if err := json.Unmarshal(r.body, &info); err != nil {
			t.Fatal(err)
		}
		status, _ := info["status"].(map[string]any)
		set, _ := info["provisionedResourceSet"].(map[string]any)
		if status["provisioningPhase"] != "PENDING" || set["nodeClusterId"] != dmID || info["provisioningRequestReference"] == "" {
			t.Fatalf("created: %s", r.body)
		}

		cases := []struct {
			method, path, body string
			status             int
			detail             string
		}{
			{"POST", "/v1/provisioningRequests", provBody(id, "team-a", ""), 409, "exists already"},
			{"POST", "/v1/provisioningRequests", provBody(other, "Team_A", ""), 400, "templateParameters.namespace: must match the pattern"},
			{"POST", "/v1/provisioningRequests", provBody(other, "team-b", `,"quota":{"pods":"ten"}`), 400, "templateParameters.quota.pods: must be of type integer"},
			{"POST", "/v1/provisioningRequests", provBody(other, "team-b", `,"colour":"red"`), 400, "templateParameters.colour: is not a parameter of template kubernetes-namespace 1.0.0"},
			{"POST", "/v1/provisioningRequests", strings.Replace(provBody(other, "team-b", ""), dmID, "nope", 1), 400, `templateParameters.deploymentManagerId: no deployment manager "nope" is registered`},
			{"POST", "/v1/provisioningRequests", strings.Replace(provBody(other, "team-b", ""), `"1.0.0"`, `"0.1"`, 1), 400, "no template kubernetes-namespace version 0.1"},
			{"POST", "/v1/provisioningRequests", strings.Replace(provBody(other, "team-b", ""), `"name"`, `"nom"`, 1), 400, "nom"},
			{"POST", "/v1/provisioningRequests", strings.Replace(provBody(other, "team-b", ""), other, "not-a-uuid", 1), 400, "body"},
			{"PUT", "/v1/provisioningRequests/" + other, provBody(id, "team-a", ""), 422, "is not the"},
			{"PUT", "/v1/provisioningRequests/" + other, provBody(other, "team-a", ""), 404, "not found"},
			{"GET", "/v1/provisioningRequests/" + other, "", 404, "not found"},
			{"GET", "/v1/provisioningRequests/not-a-uuid", "", 400, "provisioningRequestId"},
			{"DELETE", "/v1/provisioningRequests/" + other, "", 404, "not found"},
			{"GET", "/v1/provisioningRequests?filter=(eq,colour,red)", "", 400, "colour"},
		}
		for _, c := range cases {
			var r response
			if c.body == "" {
				r = e.do(t, c.method, prov+c.path)
			} else {
				r = e.send(t, c.method, prov+c.path, "application/json", strings.NewReader(c.body))
			}
			if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(problemDetail(r), c.detail) {
				t.Errorf("%s %s %s: %d %s, want %d with %q", c.method, c.path, c.body, r.status, r.body, c.status, c.detail)
			}
		}

		r = e.do(t, "GET", prov+"/v1/provisioningRequests?filter=(eq,status/provisioningPhase,PENDING)&fields=provisioningRequestData")
		if items := r.list(t); r.status != 200 || len(items) != 1 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		r = e.do(t, "GET", prov+"/v1/provisioningRequests/"+id)
		if r.status != 200 || !strings.Contains(string(r.body), `"namespace":"team-a"`) {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		r = e.send(t, "PUT", prov+"/v1/provisioningRequests/"+id, "application/json", strings.NewReader(provBody(id, "team-a", `,"quota":{"cpu":"2"}`)))
		if r.status != 200 || !strings.Contains(string(r.body), `"provisioningPhase":"PENDING"`) || !strings.Contains(string(r.body), `"cpu":"2"`) {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
		r = e.do(t, "DELETE", prov+"/v1/provisioningRequests/"+id)
		if r.status != 202 || r.header.Get("Location") != prov+"/v1/provisioningRequests/"+id {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		r = e.do(t, "GET", prov+"/v1/provisioningRequests/"+id)
		if r.status != 200 || !strings.Contains(string(r.body), `"provisioningPhase":"DELETING"`) {
			t.Fatalf("after delete: %d %s", r.status, r.body)
		}
		r = e.send(t, "PUT", prov+"/v1/provisioningRequests/"+id, "application/json", strings.NewReader(provBody(id, "team-a", "")))
		if r.status != 409 || !strings.Contains(string(r.body), "is being deleted") {
			t.Fatalf("put while deleting: %d %s", r.status, r.body)
		}
		for _, path := range []string{prov + "/api_versions", prov + "/v1/api_versions"} {
			if r := e.do(t, "GET", path); r.status != 200 || !strings.Contains(string(r.body), `"uriPrefix":"`+prov+`/v1"`) {
				t.Errorf("%s: %d %s", path, r.status, r.body)
			}
		}
	})
}

// TestArtifactsAPI lists and reads the templates.
func TestArtifactsAPI(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends()[0])
	base := arts + "/v1/managedInfrastructureTemplates"
	r := e.do(t, "GET", base+"?filter=(eq,name,kubernetes-namespace)")
	items := r.list(t)
	if r.status != 200 || len(items) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	id, _ := items[0]["artifactResourceId"].(string)
	ext, _ := items[0]["extensions"].(map[string]any)
	if ext["kind"] != "kubernetes-namespace" || ext["realizable"] != "true" || items[0]["parameterSchema"] == nil {
		t.Fatalf("template: %s", r.body)
	}
	for _, path := range []string{base + "/" + id, base + "/kubernetes-namespace.1.0.0"} {
		if r := e.do(t, "GET", path); r.status != 200 || !strings.Contains(string(r.body), `"artifactResourceId":"`+id+`"`) {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	if r := e.do(t, "GET", base+"/kubernetes-namespace.1.0.0/defaults"); r.status != 200 || string(r.body) != "{\"parameterDefaults\":{}}\n" {
		t.Errorf("defaults: %d %q", r.status, r.body)
	}
	for _, c := range []struct {
		path   string
		status int
		detail string
	}{
		{base + "/nope", 404, `managed infrastructure template "nope" not found`},
		{base + "/nope/defaults", 404, "not found"},
		{base + "?filter=(eq,colour,red)", 400, "colour"},
		{base + "?fields=parameterSchema/x,colour", 400, "colour"},
	} {
		r := e.do(t, "GET", c.path)
		if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(problemDetail(r), c.detail) {
			t.Errorf("%s: %d %s, want %d with %q", c.path, r.status, r.body, c.status, c.detail)
		}
	}
}

// problemDetail is the detail of a problem answer.
func problemDetail(r response) string {
	var p struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(r.body, &p)
	return p.Detail
}
