package kpt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestGuideTemplate renders the integration guide's deployment template as
// the deployment manager would: deployment-config parameters and setter
// values for one resource pool, then the Kptfile pipeline.
func TestGuideTemplate(t *testing.T) {
	p, err := Load(readDir(t, "testdata/guide-template"))
	if err != nil {
		t.Fatal(err)
	}
	if md := p.Metadata(); md.Name != "o2ims-deployment-template" || md.Description == "" {
		t.Errorf("metadata = %+v", md)
	}
	if err := p.SetConfigMapData("deployment-config", map[string]string{"resourcePoolId": "pool-east-1", "region": "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetSetters(map[string]string{
		"image": "registry.example/o2ims/workload:2.1.0", "replicas": "3", "resource-pool-id": "pool-east-1",
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Render(t.Context()); err != nil {
		t.Fatal(err)
	}
	files := mustFiles(t, p)
	res, err := p.Resources()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files["resources.json"] = append(b, '\n')
	checkGolden(t, "guide-template", files)
}

// TestRenderGolden renders each package under testdata/render and compares
// its files and resources with testdata/golden/<name>.
func TestRenderGolden(t *testing.T) {
	dirs, err := os.ReadDir("testdata/render")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			p := mustRender(t, readDir(t, filepath.Join("testdata/render", d.Name())))
			files := mustFiles(t, p)
			res, err := p.Resources()
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			files["resources.json"] = append(b, '\n')
			checkGolden(t, d.Name(), files)
		})
	}
}
