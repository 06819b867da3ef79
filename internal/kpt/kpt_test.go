package kpt

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

const plainKptfile = `
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: p
`

const configMap = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  k: v
`

// kptfileWith returns a Kptfile whose pipeline is the given YAML, indented
// under "pipeline:".
func kptfileWith(pipeline string) string {
	return plainKptfile + "pipeline:\n" + indent(strings.Trim(pipeline, "\n")) + "\n"
}

// TestLoadRejects covers the checks of Load.
func TestLoadRejects(t *testing.T) {
	many := map[string][]byte{"Kptfile": []byte(plainKptfile)}
	for i := range MaxFiles {
		many[fmt.Sprintf("f%d.txt", i)] = []byte("x")
	}
	var bomb strings.Builder
	bomb.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\na0: &a0 [x, x]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		parts []string
	}{
		{"no root Kptfile", pkgFiles("sub/Kptfile", plainKptfile), []string{"no Kptfile at its root"}},
		{"parent path", pkgFiles("Kptfile", plainKptfile, "../x.yaml", configMap), []string{"../x.yaml", "parent directory"}},
		{"absolute path", pkgFiles("Kptfile", plainKptfile, "/etc/x.yaml", configMap), []string{"absolute"}},
		{"unclean path", pkgFiles("Kptfile", plainKptfile, "./x.yaml", configMap), []string{"not clean"}},
		{"backslash", pkgFiles("Kptfile", plainKptfile, `a\b.yaml`, configMap), []string{"backslash"}},
		{"file and directory", pkgFiles("Kptfile", plainKptfile, "a", "x", "a/b.yaml", configMap), []string{`"a" is both a file and the directory`}},
		{"too many files", many, []string{"limit is 1000"}},
		{"too large", map[string][]byte{"Kptfile": []byte(plainKptfile), "big.txt": make([]byte, MaxSize)}, []string{"limit is"}},
		{"not YAML", pkgFiles("Kptfile", plainKptfile, "a.yaml", "kind: Service\n  metadata: : [\n"), []string{"a.yaml: document 1 is not valid YAML", "line"}},
		{"second document not YAML", pkgFiles("Kptfile", plainKptfile, "a.yaml", configMap+"---\n[\n"), []string{"a.yaml: document 2"}},
		{"not a mapping", pkgFiles("Kptfile", plainKptfile, "a.yaml", "- a\n- b\n"), []string{"a.yaml: document 1 is not a YAML mapping"}},
		{"no apiVersion", pkgFiles("Kptfile", plainKptfile, "a.yaml", "kind: ConfigMap\nmetadata:\n  name: x\n"), []string{"a.yaml: document 1 has no apiVersion"}},
		{"no kind", pkgFiles("Kptfile", plainKptfile, "a.yaml", "apiVersion: v1\nmetadata:\n  name: x\n"), []string{"a.yaml: document 1 has no kind"}},
		{"no name", pkgFiles("Kptfile", plainKptfile, "a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"), []string{"a.yaml: document 1 (ConfigMap) has no metadata.name"}},
		{"not a Kptfile", pkgFiles("Kptfile", configMap), []string{"Kptfile is not a Kptfile"}},
		{"two Kptfile documents", pkgFiles("Kptfile", plainKptfile+"---\n"+plainKptfile), []string{"exactly one"}},
		{"alias bomb", pkgFiles("Kptfile", plainKptfile, "bomb.yaml", bomb.String()), []string{"bomb.yaml", "more than 1048576 YAML nodes"}},
		{"unknown image", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: gcr.io/kpt-fn/starlark:v0.4.3")),
			[]string{"Kptfile: pipeline.mutators[0]", `"gcr.io/kpt-fn/starlark:v0.4.3" is not supported`, "apply-setters"}},
		{"other registry", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: docker.io/evil/apply-setters:v1")), []string{`"docker.io/evil/apply-setters:v1" is not supported`}},
		{"exec", pkgFiles("Kptfile", kptfileWith("validators:\n  - exec: ./check.sh")), []string{"pipeline.validators[0]", `"./check.sh"`, "exec functions are not supported"}},
		{"no image", pkgFiles("Kptfile", kptfileWith("mutators:\n  - configMap: {a: b}")), []string{"names no function image"}},
		{"unknown function field", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configmap: {a: b}")), []string{`unknown field "configmap"`}},
		{"unknown pipeline field", pkgFiles("Kptfile", kptfileWith("mutator:\n  - image: apply-setters")), []string{`pipeline has an unknown field "mutator"`}},
		{"list in configMap", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configMap:\n      args: [a, b]")), []string{"configMap.args must be a string", `"[a, b]"`}},
		{"configMap and configPath", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configMap: {a: b}\n    configPath: cm.yaml"), "cm.yaml", configMap), []string{"both configMap and configPath"}},
		{"configPath escapes", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configPath: ../../etc/passwd")), []string{"configPath", "parent directory", "inside the package"}},
		{"configPath absolute", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configPath: /etc/passwd")), []string{"absolute path"}},
		{"configPath missing", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configPath: setters.yaml")), []string{"configPath", "no file setters.yaml"}},
		{"configPath in a subpackage", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configPath: sub/cm.yaml"), "sub/Kptfile", plainKptfile, "sub/cm.yaml", configMap),
			[]string{"sub/cm.yaml belongs to the subpackage sub"}},
		{"configPath with two documents", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configPath: cm.yaml"), "cm.yaml", configMap+"---\n"+configMap), []string{"holds 2 documents"}},
		{"subpackage Kptfile", pkgFiles("Kptfile", plainKptfile, "db/Kptfile", kptfileWith("mutators:\n  - image: kubeval")), []string{"db/Kptfile: pipeline.mutators[0]", `"kubeval"`}},
		{"too many functions", pkgFiles("Kptfile", kptfileWith("mutators:"+strings.Repeat("\n  - image: apply-setters", maxFunctions+1))), []string{"run 101 functions; the limit is 100"}},
		{"selector field", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: set-labels\n    configMap: {a: b}\n    selectors:\n      - kinds: Deployment")), []string{`selectors[0] has an unknown field "kinds"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.files)
			wantInvalid(t, err, tc.parts...)
		})
	}
}

// TestLoadAccepts covers files Load keeps as they are.
func TestLoadAccepts(t *testing.T) {
	files := pkgFiles(
		"Kptfile", plainKptfile,
		"README.md", "# not YAML: kept\n",
		"empty.yaml", "# only a comment\n",
		"kustomization.yaml", "resources:\n  - cm.yaml\n",
		"cm.yaml", configMap,
	)
	p, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Render(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := mustFiles(t, p)
	for _, name := range []string{"README.md", "empty.yaml", "kustomization.yaml", "cm.yaml", "Kptfile"} {
		if string(out[name]) != string(files[name]) {
			t.Errorf("%s changed:\n%s\nwas\n%s", name, out[name], files[name])
		}
	}
	res, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Path != "cm.yaml" {
		t.Errorf("resources = %+v, want only cm.yaml: Kptfiles and kustomization files are no objects", res)
	}
}

// TestRenderErrors covers errors of the functions, restated in the
// package's words.
func TestRenderErrors(t *testing.T) {
	replacements := func(body string) map[string][]byte {
		return pkgFiles(
			"Kptfile", kptfileWith("mutators:\n  - image: gcr.io/kpt-fn/apply-replacements:v0.1.1\n    configPath: r.yaml"),
			"r.yaml", "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements:\n"+body,
			"cm.yaml", configMap,
			"cm2.yaml", strings.Replace(configMap, "name: cm", "name: cm2", 1),
		)
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		parts []string
	}{
		{"guide's source.value", replacements("  - source:\n      value: x\n    targets:\n      - select: {kind: ConfigMap}\n"),
			[]string{"pipeline.mutators[0] (gcr.io/kpt-fn/apply-replacements:v0.1.1, configuration r.yaml)", `replacements[0].source has an unknown field "value"`}},
		{"nothing selected", replacements("  - source: {kind: Secret, name: s}\n    targets:\n      - select: {kind: ConfigMap}\n"),
			[]string{"replacements[0]: the source (kind Secret, name s) selects no resource"}},
		{"several selected", replacements("  - source: {kind: ConfigMap, fieldPath: data.k}\n    targets:\n      - select: {kind: ConfigMap}\n"),
			[]string{"selects more than one resource"}},
		{"source field missing", replacements("  - source: {kind: ConfigMap, name: cm, fieldPath: data.nope}\n    targets:\n      - select: {kind: ConfigMap}\n"),
			[]string{"the source (kind ConfigMap, name cm) has no field data.nope"}},
		{"target field missing", replacements("  - source: {kind: ConfigMap, name: cm, fieldPath: data.k}\n    targets:\n      - select: {name: cm2}\n        fieldPaths: [data.nope]\n"),
			[]string{`a target resource has no field "data.nope"`, "options.create"}},
		{"source and sourceValue", replacements("  - source: {kind: ConfigMap, name: cm}\n    sourceValue: x\n    targets:\n      - select: {kind: ConfigMap}\n"),
			[]string{"both a source and a sourceValue"}},
		{"no targets", replacements("  - sourceValue: x\n"), []string{"replacements[0] has no targets"}},
		{"no select", replacements("  - sourceValue: x\n    targets:\n      - fieldPaths: [data.k]\n"), []string{"targets[0] needs a select"}},
		{"wrong type", replacements("  - sourceValue: x\n    targets:\n      - select: {kind: ConfigMap}\n        options: {index: first}\n"),
			[]string{"replacements: targets.options.index must not be a string"}},
		{"bad label selector", replacements("  - sourceValue: x\n    targets:\n      - select: {labelSelector: \"a in (\"}\n"), []string{`"a in (" is not a valid label or annotation selector`}},
		{"bad pattern", replacements("  - sourceValue: x\n    targets:\n      - select: {name: \"cm[\"}\n"), []string{"not a valid regular expression"}},
		{"replacements config kind", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: apply-replacements\n    configMap: {a: b}")),
			[]string{"ConfigMap", "needs an ApplyReplacements"}},
		{"set-namespace without namespace", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: set-namespace\n    configMap: {ns: x}")),
			[]string{"pipeline.mutators[0] (set-namespace)", "data.namespace is empty"}},
		{"set-labels config kind", pkgFiles("Kptfile", kptfileWith("mutators:\n  - image: set-labels\n    configPath: r.yaml"), "r.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"),
			[]string{"Secret", "set-labels needs a ConfigMap or a SetLabels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			before := mustFiles(t, p)
			err = p.Render(t.Context())
			wantInvalid(t, err, tc.parts...)
			t.Log(ims.ErrorMessage(err))
			if after := mustFiles(t, p); !reflect.DeepEqual(before, after) {
				t.Error("a failed render changed the package")
			}
		})
	}
}

// TestRenderBounds checks that functions whose output would grow without
// bound are refused before they run.
func TestRenderBounds(t *testing.T) {
	var fields strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&fields, "  f%d: x # kpt-set: ${big}\n", i)
	}
	setters := pkgFiles(
		"Kptfile", kptfileWith("mutators:\n  - image: apply-setters\n    configMap:\n      big: "+strings.Repeat("x", 100_000)),
		"cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n"+fields.String(),
	)
	var big, targets strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&big, "    k%d: v\n", i)
	}
	for i := range 200 {
		fmt.Fprintf(&targets, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t%d\ndata:\n  a: b\n", i)
	}
	replacements := pkgFiles(
		"Kptfile", kptfileWith("mutators:\n  - image: apply-replacements\n    configPath: r.yaml"),
		"r.yaml", "apiVersion: fn.kpt.dev/v1alpha1\nkind: ApplyReplacements\nmetadata:\n  name: r\nreplacements:\n"+
			"  - source: {kind: Thing, fieldPath: spec.big}\n    targets:\n      - select: {kind: ConfigMap}\n        fieldPaths: [data.copy]\n        options: {create: true}\n",
		"thing.yaml", "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: thing\nspec:\n  big:\n"+big.String(),
		"targets.yaml", targets.String(),
	)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		parts []string
	}{
		{"setter values", setters, []string{"would add", "bytes"}},
		{"replacement copies", replacements, []string{"replacements[0] would copy a value of", "YAML nodes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			wantInvalid(t, p.Render(t.Context()), tc.parts...)
		})
	}
}

func TestRenderCancelled(t *testing.T) {
	p, err := Load(readDir(t, "testdata/guide-template"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Render(ctx); ims.ErrorCode(err) != ims.EUNAVAILABLE {
		t.Errorf("Render with a cancelled context: %v", err)
	}
}

func TestSetConfigMapData(t *testing.T) {
	files := pkgFiles("Kptfile", plainKptfile, "cm.yaml", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: params
data:
  region: unset # where the pool is
`, "sub/Kptfile", plainKptfile, "sub/cm.yaml", configMap, "dup.yaml", configMap)
	p, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetConfigMapData("params", map[string]string{"region": "eu-1", "enabled": "yes", "count": "3"}); err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: ConfigMap
metadata:
  name: params
data:
  region: eu-1 # where the pool is
  count: "3"
  enabled: "yes"
`
	if got := string(mustFiles(t, p)["cm.yaml"]); got != want {
		t.Errorf("cm.yaml\n%s\nwant\n%s", got, want)
	}
	wantInvalid(t, p.SetConfigMapData("nope", nil), `no ConfigMap named "nope"`)
	wantInvalid(t, p.SetConfigMapData("cm", nil), `more than one ConfigMap named "cm"`)
	wantInvalid(t, p.SetConfigMapData("params", map[string]string{"a/b": "x"}), `"a/b" is not a valid ConfigMap key`)
}

// TestResources covers the conversion into object values and which
// resources are objects.
func TestResources(t *testing.T) {
	p, err := Load(pkgFiles("Kptfile", plainKptfile, "a.yaml", `
apiVersion: example.com/v1
kind: Thing
metadata:
  name: t
base: &b {x: 1, y: "2"}
m:
  <<: *b
  y: 3
f: 1.5
n: ~
ts: 2001-12-14
big: 99999999999999999999
word: on
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-yes
  annotations:
    config.kubernetes.io/local-config: "yes"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-false
  annotations:
    config.kubernetes.io/local-config: "false"
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[1].Object["metadata"].(map[string]any)["name"] != "local-false" || res[1].Index != 2 {
		t.Fatalf("resources = %+v; want the Thing and local-false: any local-config value but \"false\" marks local configuration", res)
	}
	want := map[string]any{
		"apiVersion": "example.com/v1", "kind": "Thing", "metadata": map[string]any{"name": "t"},
		"base": map[string]any{"x": int64(1), "y": "2"},
		"m":    map[string]any{"x": int64(1), "y": int64(3)},
		"f":    1.5, "n": nil, "ts": "2001-12-14", "big": 1e20, "word": "on",
	}
	if !reflect.DeepEqual(res[0].Object, want) {
		t.Errorf("got %#v\nwant %#v", res[0].Object, want)
	}
}

func TestImageNames(t *testing.T) {
	for image, want := range map[string]string{
		"apply-setters":                                   "apply-setters",
		"apply-setters:v0.2.0":                            "apply-setters",
		"gcr.io/kpt-fn/apply-setters:v0.2":                "apply-setters",
		"gcr.io/kpt-fn/apply-replacements:v0.1.1":         "apply-replacements",
		"ghcr.io/kptdev/krm-functions-catalog/set-labels": "set-labels",
		"gcr.io/kpt-fn/set-namespace@sha256:0123abcd":     "set-namespace",
		"gcr.io/kpt-fn/set-namespace:v0.4.1@sha256:0a":    "set-namespace",
		"gcr.io/other/apply-setters:v0.2.0":               "",
		"localhost:5000/apply-setters":                    "",
		"apply-setter":                                    "",
		"gcr.io/kpt-fn/nested/apply-setters":              "",
	} {
		name, _, ok := lookupBuiltin(image)
		if name != want || ok != (want != "") {
			t.Errorf("lookupBuiltin(%q) = %q, %v; want %q", image, name, ok, want)
		}
	}
}
