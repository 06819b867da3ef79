package provisioning

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

func TestParseTemplate(t *testing.T) {
	cases := []struct {
		name, yaml, err string
	}{
		{"valid", testTemplate, ""},
		{"no name", strings.Replace(testTemplate, "name: test-stack", "", 1), "name is required"},
		{"no version", strings.Replace(testTemplate, "version: 1.0.0", "", 1), "version is required"},
		{"no kind", strings.Replace(testTemplate, "kind: test", "", 1), "kind is required"},
		{"unknown key", testTemplate + "colour: red\n", `unknown field "colour"`},
		{"not an object schema", "name: a\nversion: '1'\nkind: k\nparameterSchema: {type: string}\n", "parameterSchema: must be of type object"},
		{"no deploymentManagerId", "name: a\nversion: '1'\nkind: k\nparameterSchema: {type: object, properties: {x: {type: string}}}\n", "must require the parameter deploymentManagerId"},
		{"invalid schema", "name: a\nversion: '1'\nkind: k\nparameterSchema: {type: object, required: [deploymentManagerId], properties: {deploymentManagerId: {type: strin}}}\n", "not a valid OpenAPI v3 schema"},
		{"default of no parameter", testTemplate + "  colour: red\n", "defaults: colour is not a parameter of the schema"},
		{"not YAML", "name: [", "not YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := ParseTemplate([]byte(c.yaml))
			if c.err == "" {
				if err != nil || tpl.Name != "test-stack" || tpl.Defaults["flavour"] != "small" {
					t.Fatalf("%v %+v", err, tpl)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
		})
	}
}

func TestBuiltinTemplates(t *testing.T) {
	ts, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	var ns *Template
	for i := range ts {
		if ts[i].Name == "kubernetes-namespace" {
			ns = &ts[i]
		}
	}
	if ns == nil || ns.Kind != KindNamespace {
		t.Fatalf("kubernetes-namespace is not built in: %+v", ts)
	}
}

func TestLoadCatalogOperatorTemplates(t *testing.T) {
	dir := t.TempDir()
	own := strings.Replace(testTemplate, "description: A test template.", "description: The operator's.", 1)
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a template"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Find("test-stack", "1.0.0")
	if !ok || got.Description != "The operator's." {
		t.Fatalf("operator template missing: %+v", got)
	}
	if _, ok := c.Lookup("kubernetes-namespace.1.0.0"); !ok {
		t.Error("the built-in templates are gone")
	}
	if _, ok := c.Lookup(TemplateID(got)); !ok {
		t.Error("no lookup by artifactResourceId")
	}
	if err := os.WriteFile(filepath.Join(dir, "twice.yml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCatalog(dir); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("a template defined twice: %v", err)
	}
	if _, err := LoadCatalog(filepath.Join(dir, "absent")); err != nil {
		t.Fatalf("an absent directory: %v", err)
	}
}

func TestParameters(t *testing.T) {
	tpl, err := ParseTemplate([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		params map[string]any
		err    string
	}{
		{"valid, defaults filled in", map[string]any{"deploymentManagerId": "dm", "size": 2}, ""},
		{"missing", map[string]any{"deploymentManagerId": "dm"}, "templateParameters.size: is required"},
		{"unknown", map[string]any{"deploymentManagerId": "dm", "size": 1, "colour": "red"},
			"templateParameters.colour: is not a parameter of template test-stack 1.0.0 (known: deploymentManagerId, flavour, network, size, token)"},
		{"wrong type", map[string]any{"deploymentManagerId": "dm", "size": "two"}, "templateParameters.size: must be of type integer"},
		{"too large", map[string]any{"deploymentManagerId": "dm", "size": 11}, "templateParameters.size: must be at most 10"},
		{"too small", map[string]any{"deploymentManagerId": "dm", "size": 0}, "templateParameters.size: must be at least 1"},
		{"not in enum", map[string]any{"deploymentManagerId": "dm", "size": 1, "flavour": "huge"}, `templateParameters.flavour: must be one of "small", "large"`},
		{"empty string", map[string]any{"deploymentManagerId": "", "size": 1}, "templateParameters.deploymentManagerId: must be at least 1 characters long"},
		{"nested pattern", map[string]any{"deploymentManagerId": "dm", "size": 1, "network": map[string]any{"cidr": "x"}},
			"templateParameters.network.cidr: must match the pattern ^[0-9./]+$"},
		{"nested unknown", map[string]any{"deploymentManagerId": "dm", "size": 1, "network": map[string]any{"vlan": 3}},
			"templateParameters.network.vlan: is not a parameter of template test-stack 1.0.0 (known: cidr)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parameters(tpl, c.params)
			if c.err == "" {
				if err != nil || got["flavour"] != "small" || got["size"] != float64(2) {
					t.Fatalf("%v %v", err, got)
				}
				return
			}
			if ims.ErrorCode(err) != ims.EINVALID || ims.ErrorMessage(err) != c.err {
				t.Fatalf("got %s %q\nwant %q", ims.ErrorCode(err), ims.ErrorMessage(err), c.err)
			}
		})
	}
}
