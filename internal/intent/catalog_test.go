package intent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCatalog(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := LoadCatalog(write("catalog.yaml", "amf: {vnfdId: vnfd-amf-1, flavourId: large, replicas: 3, resources: {cpu: '2'}}\n"))
	if err != nil || c["amf"].VnfdID != "vnfd-amf-1" || c["amf"].Replicas != 3 || c["amf"].Resources.CPU != "2" || c["smf"].VnfdID != "smf" {
		t.Fatalf("catalog = %+v, %v", c, err)
	}
	if c, err := LoadCatalog(""); err != nil || c["upf"].VnfdID != "upf" {
		t.Fatalf("default catalog = %+v, %v", c, err)
	}
	tests := map[string]string{
		"mme: {vnfdId: x}\n":               `"mme" is not a network function`,
		"amf: {flavourId: small}\n":        "names neither vnfdId nor packageId",
		"amf: {vnfdId: x, colour: 1}\n":    "colour",
		"amf: {vnfdId: x, replicas: -1}\n": "replicas must be between 0 and 1000",
	}
	for body, want := range tests {
		if _, err := LoadCatalog(write("bad.yaml", body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("catalog %q: %v, want %q", body, err, want)
		}
	}
	if _, err := LoadCatalog(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing catalog file was accepted")
	}
}

func TestCatalogComponents(t *testing.T) {
	c := DefaultCatalog()
	c["amf"] = Package{VnfdID: "vnfd-amf", Replicas: 2, Resources: &Resources{CPU: "1", Memory: "1Gi"}}
	tests := []struct {
		name string
		reqs Requirements
		want []Component
		err  string
	}{
		{
			name: "catalog replicas win when larger; requirement resources override",
			reqs: Requirements{Functions: []Function{{Name: "amf", Replicas: 1}}, CPU: "2"},
			want: []Component{{Name: "amf", Function: "amf", Package: Package{VnfdID: "vnfd-amf", Replicas: 2, Resources: &Resources{CPU: "2", Memory: "1Gi"}}}},
		},
		{
			name: "requirement replicas win when larger; long names are shortened",
			reqs: Requirements{Functions: []Function{{Name: "near-rt-ric", Replicas: 3}}},
			want: []Component{{Name: "ric", Function: "near-rt-ric", Package: Package{VnfdID: "near-rt-ric", Replicas: 3}}},
		},
		{
			name: "a function the catalog lacks",
			reqs: Requirements{Functions: []Function{{Name: "mme", Replicas: 1}}},
			err:  "the catalog has no CNF package for mme",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Components(tt.reqs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d components, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Name != w.Name || g.Function != w.Function || g.VnfdID != w.VnfdID || g.Replicas != w.Replicas {
					t.Errorf("component %d = %+v, want %+v", i, g, w)
				}
				if (g.Resources == nil) != (w.Resources == nil) || (g.Resources != nil && *g.Resources != *w.Resources) {
					t.Errorf("component %d resources = %+v, want %+v", i, g.Resources, w.Resources)
				}
			}
		})
	}
	// The catalog's own entry is not changed by an override.
	if c["amf"].Resources.CPU != "1" {
		t.Error("Components changed the catalog")
	}
}
