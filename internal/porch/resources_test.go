package porch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/yaml"
)

func TestRequestValidate(t *testing.T) {
	long := strings.Repeat("a", 58) // o2ims- makes it 64
	for _, tc := range []struct {
		name string
		req  Request
		want string // substring of the error; "" for valid
	}{
		{"valid", Request{Deployment: "edge-a", Config: map[string]string{"resourcePoolId": "p"}, Setters: map[string]string{"resource-pool-id": "p"}}, ""},
		{"no values", Request{Deployment: "edge-a"}, ""},
		{"longest name", Request{Deployment: long[:57]}, ""},
		{"empty", Request{}, "deployment name is empty"},
		{"uppercase", Request{Deployment: "Edge"}, `deployment name "Edge"`},
		{"dots", Request{Deployment: "edge.a"}, `deployment name "edge.a"`},
		{"too long for the package", Request{Deployment: long}, "at most 63"},
		{"config key", Request{Deployment: "d", Config: map[string]string{"bad key": "v"}}, `config key "bad key"`},
		{"setter name", Request{Deployment: "d", Setters: map[string]string{"${x}": "v"}}, `setter name "${x}"`},
		{"both", Request{Deployment: "D", Setters: map[string]string{"": "v"}}, `setter name ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func template(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	dir := filepath.Join("..", "kpt", "testdata", "guide-template")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func TestSetValues(t *testing.T) {
	in := template(t)
	req := Request{
		Deployment: "d",
		Config:     map[string]string{"resourcePoolId": "pool-a", "zone": "3"},
		Setters:    map[string]string{"resource-pool-id": "pool-a", "replicas": "3"},
	}
	out, changed, err := setValues(in, req)
	if err != nil || !changed {
		t.Fatalf("setValues = %v, %v", changed, err)
	}
	if in["Kptfile"] != template(t)["Kptfile"] {
		t.Error("setValues modified its input")
	}
	if out["deployment.yaml"] != in["deployment.yaml"] || out["replacements.yaml"] != in["replacements.yaml"] {
		t.Error("files without values were rewritten")
	}

	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(out["deployment-config.yaml"]), &cm); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"resourcePoolId": "pool-a", "provider": "kubernetes", "region": "unassigned", "zone": "3"}
	if len(cm.Data) != len(want) {
		t.Errorf("data = %v, want %v", cm.Data, want)
	}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("data[%s] = %q, want %q (all: %v)", k, cm.Data[k], v, cm.Data)
		}
	}
	// "3" must stay a string, or the ConfigMap would be invalid.
	if !strings.Contains(out["deployment-config.yaml"], `zone: "3"`) {
		t.Errorf("a numeric-looking value is not quoted:\n%s", out["deployment-config.yaml"])
	}

	var kf struct {
		Pipeline struct {
			Mutators []struct {
				Image      string            `json:"image"`
				ConfigMap  map[string]string `json:"configMap"`
				ConfigPath string            `json:"configPath"`
			} `json:"mutators"`
		} `json:"pipeline"`
	}
	if err := yaml.Unmarshal([]byte(out["Kptfile"]), &kf); err != nil {
		t.Fatal(err)
	}
	m := kf.Pipeline.Mutators
	if len(m) != 2 || m[0].ConfigMap["resource-pool-id"] != "pool-a" || m[0].ConfigMap["replicas"] != "3" ||
		m[0].ConfigMap["image"] != "registry.example/o2ims/workload:1.0.0" || m[1].ConfigPath != "replacements.yaml" {
		t.Errorf("Kptfile pipeline = %+v\n%s", m, out["Kptfile"])
	}
	if !strings.Contains(out["Kptfile"], "local-config: \"true\"") {
		t.Errorf("Kptfile lost its annotation:\n%s", out["Kptfile"])
	}

	// The same values again change nothing.
	again, changed, err := setValues(out, req)
	if err != nil || changed {
		t.Fatalf("second setValues = %v, %v", changed, err)
	}
	if again["Kptfile"] != out["Kptfile"] || again["deployment-config.yaml"] != out["deployment-config.yaml"] {
		t.Error("an unchanged setValues rewrote files")
	}
}

func TestSetValuesKeepsSetterComments(t *testing.T) {
	files := map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: deployment-config
data:
  resourcePoolId: old # kpt-set: ${resource-pool-id}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
`}
	out, changed, err := setValues(files, Request{Deployment: "d", Config: map[string]string{"resourcePoolId": "new"}})
	if err != nil || !changed {
		t.Fatalf("setValues = %v, %v", changed, err)
	}
	if !strings.Contains(out["cm.yaml"], "resourcePoolId: new # kpt-set: ${resource-pool-id}") || !strings.Contains(out["cm.yaml"], "name: other") {
		t.Errorf("cm.yaml:\n%s", out["cm.yaml"])
	}
}

func TestSetValuesErrors(t *testing.T) {
	tmpl := template(t)
	noSetters := map[string]string{"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n"}
	pathConfig := map[string]string{"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: x
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-setters:v0.2.0
      configPath: setters.yaml
`}
	for _, tc := range []struct {
		name  string
		files map[string]string
		req   Request
		want  string
	}{
		{"no Kptfile", map[string]string{}, Request{Setters: map[string]string{"a": "b"}}, "no Kptfile"},
		{"no pipeline", noSetters, Request{Setters: map[string]string{"a": "b"}}, "no pipeline.mutators"},
		{"configPath", pathConfig, Request{Setters: map[string]string{"a": "b"}}, "configPath"},
		{"no ConfigMap", noSetters, Request{Config: map[string]string{"a": "b"}}, "no ConfigMap deployment-config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := setValues(tc.files, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("setValues = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// Only the setters of apply-setters are touched; a template without
	// values asked for needs neither the function nor the ConfigMap.
	if _, changed, err := setValues(tmpl, Request{Deployment: "d"}); err != nil || changed {
		t.Errorf("setValues without values = %v, %v", changed, err)
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"gcr.io/kpt-fn/apply-setters:v0.2.0":                 "apply-setters",
		"apply-setters:v0.2":                                 "apply-setters",
		"ghcr.io/kptdev/krm-functions-catalog/apply-setters": "apply-setters",
		"gcr.io/kpt-fn/apply-setters@sha256:4d42":            "apply-setters",
		"localhost:5000/fn/apply-setters:v1":                 "apply-setters",
		"gcr.io/kpt-fn/apply-replacements:v0.1.1":            "apply-replacements",
	} {
		if got := functionName(in); got != want {
			t.Errorf("functionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderFailure(t *testing.T) {
	if got := renderFailure(porchapi.RenderStatus{}); got != "" {
		t.Errorf("renderFailure(success) = %q", got)
	}
	rs := porchapi.RenderStatus{Result: porchapi.ResultList{ExitCode: 1, Items: []*porchapi.Result{
		{Image: "gcr.io/kpt-fn/apply-replacements:v0.1.1", ExitCode: 0},
		{Image: "gcr.io/kpt-fn/apply-setters:v0.2.0", ExitCode: 1, Stderr: "boom\n",
			Results: []porchapi.ResultItem{{Message: "values for setters [x] must be provided", Severity: "error"}}},
	}}}
	got := renderFailure(rs)
	for _, want := range []string{"gcr.io/kpt-fn/apply-setters:v0.2.0 exited with 1", "boom", "values for setters [x]"} {
		if !strings.Contains(got, want) {
			t.Errorf("renderFailure = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "apply-replacements") {
		t.Errorf("renderFailure names a function that succeeded: %q", got)
	}
}
