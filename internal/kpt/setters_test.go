package kpt

import (
	"reflect"
	"strings"
	"testing"
)

// settersKptfile runs apply-setters with these values.
const settersKptfile = `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: setters
pipeline:
  mutators:
    - image: apply-setters:v0.2.0
      configMap:
        replicas: "4"
        name: "007"
        tag: "1.25"
        registry: reg.example
        enabled: "true"
        list: "[x, y]"
        port: "81"
        empty: ""
        yes: y
        env: prod
        emptylist: "[]"
`

// TestSetterForms pins the comment forms of apply-setters, in the catalog
// function's own behaviour: the text written and the value an object gets.
func TestSetterForms(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		// out is the rendered spec; value is spec.v as an object holds it.
		out   string
		value any
	}{
		{"plain integer", "v: 1 # kpt-set: ${replicas}", "v: 4 # kpt-set: ${replicas}", int64(4)},
		{"string", "v: app # kpt-set: ${env}", "v: prod # kpt-set: ${env}", "prod"},
		// The function clears the field's type, so a string setter that
		// looks like a number becomes one, as with kpt.
		{"number-like string is retyped", "v: app # kpt-set: ${name}", "v: 007 # kpt-set: ${name}", int64(7)},
		{"quoted stays a string", `v: "80" # kpt-set: ${port}`, `v: "81" # kpt-set: ${port}`, "81"},
		{"inside a string", "v: nginx:1.0 # kpt-set: nginx:${tag}", "v: nginx:1.25 # kpt-set: nginx:${tag}", "nginx:1.25"},
		{"several setters", "v: a/b:c # kpt-set: ${registry}/app:${tag}", "v: reg.example/app:1.25 # kpt-set: ${registry}/app:${tag}", "reg.example/app:1.25"},
		{"boolean", "v: false # kpt-set: ${enabled}", "v: true # kpt-set: ${enabled}", true},
		{"empty value", "v: x # kpt-set: ${empty}", `v: "" # kpt-set: ${empty}`, ""},
		{"unset setter leaves the value", "v: keep # kpt-set: ${missing}", "v: keep # kpt-set: ${missing}", "keep"},
		// An unset setter in a pattern with a set one is read back from the
		// current value.
		{"unset setter read from the value", "v: a-dev # kpt-set: ${tag}-${stage}", "v: 1.25-dev # kpt-set: ${tag}-${stage}", "1.25-dev"},
		{"plain comment", "v: 1 # just a comment", "v: 1 # just a comment", int64(1)},
		{"other tool's comment", "v: 1 # kpt-set-not: ${replicas}", "v: 1 # kpt-set-not: ${replicas}", int64(1)},
		{"block list", "v: # kpt-set: ${list}\n  - a", "v: # kpt-set: ${list}\n  - x\n  - y", []any{"x", "y"}},
		// A document without block lists is written with compact lists.
		{"flow list", "v: [a] # kpt-set: ${list}", "v: # kpt-set: ${list}\n- x\n- y", []any{"x", "y"}},
		{"empty list", "v: # kpt-set: ${emptylist}\n  - a", "v: [] # kpt-set: ${emptylist}", []any{}},
		// YAML 1.2, which kpt's functions speak, reads "y" as a string.
		{"YAML 1.1 boolean word", "v: a # kpt-set: ${yes}", "v: y # kpt-set: ${yes}", "y"},
		{"list item", "v:\n  - a # kpt-set: ${env}\n  - b", "v:\n  - prod # kpt-set: ${env}\n  - b", []any{"prod", "b"}},
		{"nested", "v:\n  w: 1 # kpt-set: ${replicas}", "v:\n  w: 4 # kpt-set: ${replicas}", map[string]any{"w": int64(4)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n" + indent(tc.in) + "\n"
			p := mustRender(t, pkgFiles("Kptfile", settersKptfile, "thing.yaml", obj))
			got := string(mustFiles(t, p)["thing.yaml"])
			want := "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n" + indent(tc.out) + "\n"
			if got != want {
				t.Errorf("rendered\n%s\nwant\n%s", got, want)
			}
			res, err := p.Resources()
			if err != nil {
				t.Fatal(err)
			}
			if v := res[0].Object["spec"].(map[string]any)["v"]; !reflect.DeepEqual(v, tc.value) {
				t.Errorf("spec.v = %#v, want %#v", v, tc.value)
			}
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// TestSetterErrors checks the errors of apply-setters, restated in the
// package's words.
func TestSetterErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		parts    []string
	}{
		{"value not readable", "v: keep # kpt-set: ${tag}-${missing}", []string{"thing.yaml (Thing t)", "${missing}", "neither given nor readable"}},
		{"list pattern", "v: [a, b] # kpt-set: x-${list}", []string{"thing.yaml", "single setter", "x-${list}"}},
		{"list value", "v: [a, b] # kpt-set: ${env}", []string{"thing.yaml", "YAML list", "prod"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n" + indent(tc.in) + "\n"
			p, err := Load(pkgFiles("Kptfile", settersKptfile, "thing.yaml", obj))
			if err != nil {
				t.Fatal(err)
			}
			err = p.Render(t.Context())
			wantInvalid(t, err, append(tc.parts, "Kptfile: pipeline.mutators[0] (apply-setters:v0.2.0)")...)
		})
	}
}

// TestSetSetters covers where SetSetters writes values.
func TestSetSetters(t *testing.T) {
	deployment := `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # kpt-set: ${name}
spec:
  replicas: 1 # kpt-set: ${replicas}
`
	for _, tc := range []struct {
		name    string
		kptfile string
		extra   []string
		values  map[string]string
		// kptfile and config are the expected Kptfile and setters.yaml.
		wantKptfile, wantConfig string
	}{
		{
			name: "inline configMap",
			kptfile: `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-setters:v0.2.0
      configMap:
        name: app # the release name
        replicas: "1"
`,
			values: map[string]string{"name": "web", "replicas": "2", "flag": "on"},
			wantKptfile: `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-setters:v0.2.0
      configMap:
        name: web # the release name
        replicas: "2"
        flag: "on"
`,
		},
		{
			name: "configPath",
			kptfile: `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
pipeline:
  mutators:
    - image: apply-setters
      configPath: setters.yaml
`,
			extra: []string{"setters.yaml", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: setters
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  replicas: "1" # default
`},
			values: map[string]string{"replicas": "5", "name": "web"},
			wantConfig: `apiVersion: v1
kind: ConfigMap
metadata:
  name: setters
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  replicas: "5" # default
  name: web
`,
		},
		{
			name: "no apply-setters yet",
			kptfile: `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
pipeline:
  mutators:
    - image: set-labels:v0.1
      configMap:
        team: a
`,
			values: map[string]string{"name": "web"},
			wantKptfile: `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
  labels:
    team: a
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-setters:v0.2.0
      configMap:
        name: web
    - image: set-labels:v0.1
      configMap:
        team: a
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(pkgFiles(append([]string{"Kptfile", tc.kptfile, "deployment.yaml", deployment}, tc.extra...)...))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.SetSetters(tc.values); err != nil {
				t.Fatal(err)
			}
			if err := p.Render(t.Context()); err != nil {
				t.Fatal(err)
			}
			files := mustFiles(t, p)
			if tc.wantKptfile != "" && string(files["Kptfile"]) != tc.wantKptfile {
				t.Errorf("Kptfile\n%s\nwant\n%s", files["Kptfile"], tc.wantKptfile)
			}
			if tc.wantConfig != "" && string(files["setters.yaml"]) != tc.wantConfig {
				t.Errorf("setters.yaml\n%s\nwant\n%s", files["setters.yaml"], tc.wantConfig)
			}
			if !strings.Contains(string(files["deployment.yaml"]), "name: web # kpt-set: ${name}") {
				t.Errorf("deployment.yaml was not set:\n%s", files["deployment.yaml"])
			}
		})
	}
}

// TestSetSettersTwoFunctions checks that a setter known to a second
// apply-setters mutator is written there too, so that it does not set the
// old value back.
func TestSetSettersTwoFunctions(t *testing.T) {
	p, err := Load(pkgFiles("Kptfile", `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
pipeline:
  mutators:
    - image: apply-setters
      configMap:
        a: "1"
    - image: apply-setters
      configMap:
        tag: "1.0"
`, "cm.yaml", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  tag: "1.0" # kpt-set: ${tag}
  other: x # kpt-set: ${other}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetSetters(map[string]string{"tag": "2.0", "other": "y"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Render(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  tag: "2.0" # kpt-set: ${tag}
  other: y # kpt-set: ${other}
`
	if got := string(mustFiles(t, p)["cm.yaml"]); got != want {
		t.Errorf("cm.yaml\n%s\nwant\n%s", got, want)
	}
}
