package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

const planJSON = `{"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app","replicas":2}],"resourceVersion":0,
"status":{"phase":"PENDING","components":[],"reservations":[{"resourcePoolId":"p1","requests":{"cpuMillicores":1000,"memoryBytes":134217728,"pods":2},"state":"PLANNED"}],
"placement":{"assignments":[{"component":"amf","resourcePoolId":"p1","resourcePoolName":"edge-a","deploymentManagerId":"dm1","replicas":2,"requests":{"cpuMillicores":1000,"memoryBytes":134217728,"pods":2},"score":0.71}],
"decisions":[{"resourcePoolId":"p1","resourcePoolName":"edge-a","eligible":true,"chosen":true,"score":0.71,"reasons":[]},
{"resourcePoolId":"p2","resourcePoolName":"core-b","eligible":false,"chosen":false,"score":0,"reasons":["not healthy","below minCapacity: not enough free cpu (1 free, 4 needed)"]}]}}}`

const deploymentJSON = `{"deploymentId":"d1","name":"core","components":[{"name":"amf","vnfdId":"vnfd-app","replicas":2}],"resourceVersion":3,
"createdAt":"2026-12-03T10:00:00Z","status":{"phase":"ACTIVE","reservations":[],"components":[
{"name":"amf","resourcePoolId":"p1","resourcePoolName":"edge-a","deploymentManagerId":"dm1","cnfInstanceId":"i1","namespace":"core-amf-1","replicas":1,"readyReplicas":1,"phase":"INSTANTIATED"},
{"name":"amf","resourcePoolId":"p3","resourcePoolName":"edge-c","deploymentManagerId":"dm1","cnfInstanceId":"i2","namespace":"core-amf-2","replicas":1,"readyReplicas":0,"phase":"INSTANTIATED"}],
"placement":{"assignments":[],"decisions":[{"resourcePoolId":"p2","resourcePoolName":"core-b","eligible":false,"chosen":false,"score":0,"reasons":["not healthy"]}]}}}`

func TestDeployCommands(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == neph+"/deployments":
			if body, _ := io.ReadAll(r.Body); strings.Contains(string(body), `"dryRun":true`) {
				return 200, planJSON
			}
			return 201, deploymentJSON
		case r.Method == http.MethodGet && r.URL.Path == neph+"/deployments":
			return 200, "[" + deploymentJSON + "]"
		case r.Method == http.MethodGet && r.URL.Path == neph+"/deployments/d1":
			return 200, deploymentJSON
		case r.Method == http.MethodPatch && r.URL.Path == neph+"/deployments/d1":
			return 200, deploymentJSON
		case r.Method == http.MethodDelete && r.URL.Path == neph+"/deployments/d1":
			return 202, deploymentJSON
		}
		return 404, `{"status":404,"detail":"no"}`
	})
	spec := writeFile(t, "core.yaml", `name: core
components:
- {name: amf, vnfdId: vnfd-app, replicas: 2}
placement:
  spread: 2
  minCapacity: {cpu: 1, memory: 1Gi}
`)
	out, errOut, code := runAgainst(t, ims.URL, "deploy", "-f", spec, "--dry-run")
	if code != 0 || errOut != "" {
		t.Fatalf("deploy --dry-run: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"nothing was created", "amf        edge-a  2         1000m  128Mi   0.710",
		"core-b  false     false   0.000  not healthy; below minCapacity: not enough free cpu (1 free, 4 needed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if out, _, code := runAgainst(t, ims.URL, "deploy", "-f", spec); code != 0 || out != "d1\n" {
		t.Errorf("deploy: exit %d, %q", code, out)
	}
	out, _, code = runAgainst(t, ims.URL, "get", "deployments")
	if code != 0 || !strings.Contains(out, "ID   NAME   PHASE    READY   POOLS") || !strings.Contains(out, "d1   core   ACTIVE   1/2     edge-a,edge-c") {
		t.Errorf("get deployments: exit %d\n%s", code, out)
	}
	out, _, code = runAgainst(t, ims.URL, "describe", "deployment", "d1")
	if code != 0 || !strings.Contains(out, "Pools considered:") || !strings.Contains(out, "core-b  false     false   0.000  not healthy") {
		t.Errorf("describe deployment: exit %d\n%s", code, out)
	}
	if out, _, code := runAgainst(t, ims.URL, "deploy", "scale", "d1", "amf=3"); code != 0 || out != "d1\n" {
		t.Errorf("deploy scale: exit %d, %q", code, out)
	}
	if out, _, code := runAgainst(t, ims.URL, "deploy", "delete", "d1"); code != 0 || out != "deployment/d1 deleted\n" {
		t.Errorf("deploy delete: exit %d, %q", code, out)
	}
	reqs := ims.requests()
	for _, want := range []string{
		"POST " + neph + `/deployments application/json {"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app","replicas":2}],"placement":{"minCapacity":"cpu:1,memory:1Gi","spread":2},"dryRun":true}`,
		"POST " + neph + `/deployments application/json {"name":"core","components":[{"name":"amf","vnfdId":"vnfd-app","replicas":2}],"placement":{"minCapacity":"cpu:1,memory:1Gi","spread":2}}`,
		"PATCH " + neph + `/deployments/d1 application/merge-patch+json {"components":[{"name":"amf","replicas":3}]}`,
		"DELETE " + neph + "/deployments/d1",
	} {
		found := false
		for _, r := range reqs {
			found = found || r == want
		}
		if !found {
			t.Errorf("no request %s among\n%s", want, strings.Join(reqs, "\n"))
		}
	}

	for _, args := range [][]string{
		{"deploy"},
		{"deploy", "-f", writeFile(t, "typo.yaml", "name: core\ncomponent: []\n")},
		{"deploy", "scale", "d1"},
		{"deploy", "scale", "d1", "amf=0"},
		{"deploy", "scale", "d1", "amf"},
	} {
		if _, _, code := runAgainst(t, ims.URL, args...); code != exitError {
			t.Errorf("o2ctl %s: exit %d, want %d", strings.Join(args, " "), code, exitError)
		}
	}
}

const recommendationJSON = `{"recommendationId":"r1","intent":"Deploy AMF with high availability","source":"rules","confidence":0.8,
"requirements":{"intentType":"deployment","functions":[{"name":"amf","replicas":2}],"highAvailability":true,"reasons":[]},
"plan":{"name":"amf-1a2b3c","components":[{"name":"amf","vnfdId":"amf","replicas":2}]},
"placement":{"assignments":[{"component":"amf","resourcePoolId":"p1","resourcePoolName":"edge-a","deploymentManagerId":"dm1","replicas":1,"requests":{"cpuMillicores":500,"memoryBytes":268435456,"pods":1},"score":0.7}],"decisions":[]},
"estimatedCost":{"currency":"USD","monthly":24.16,"perPool":[]},"timeline":{"estimatedMinutes":4,"steps":[]},"reasons":["rules"]}`

func TestAdviseCommand(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == neph+"/advisor/recommendations":
			return 201, recommendationJSON
		case r.Method == http.MethodGet && r.URL.Path == neph+"/advisor/recommendations":
			return 200, "[" + recommendationJSON + "]"
		}
		return 404, `{"status":404,"detail":"no"}`
	})
	out, errOut, code := runAgainst(t, ims.URL, "advise", "Deploy AMF with high availability", "--region", "us-west", "--providers", "kubernetes")
	if code != 0 || errOut != "" || !strings.Contains(out, "Recommendation r1 (rules, confidence 0.80): deployment amf-1a2b3c of amf×2, about 24.16 USD a month, 4 minutes.") ||
		!strings.Contains(out, "amf        edge-a  1         500m  256Mi   0.700") {
		t.Fatalf("advise: exit %d, stderr %q\n%s", code, errOut, out)
	}
	reqs := ims.requests()
	if want := `POST ` + neph + `/advisor/recommendations application/json {"intent":"Deploy AMF with high availability","region":"us-west","constraints":{"providers":["kubernetes"]}}`; len(reqs) != 1 || reqs[0] != want {
		t.Errorf("request %v\nwant %s", reqs, want)
	}
	out, _, code = runAgainst(t, ims.URL, "get", "recommendations")
	if code != 0 || !strings.Contains(out, "r1   rules    0.80         24.16 USD   amf-1a2b3c   Deploy AMF with high availability") {
		t.Errorf("get recommendations: exit %d\n%s", code, out)
	}
}
