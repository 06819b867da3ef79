package controller

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nephoran/o2ims/internal/intent"
	nephv1 "github.com/nephoran/o2ims/pkg/apis/nephoran/v1"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

func TestDeploymentName(t *testing.T) {
	tests := []struct{ ns, name, prefix string }{
		{"default", "amf-west", "amf-west-"},
		{"default", "a.b.c", "a-b-c-"},
		{"default", strings.Repeat("x", 60), strings.Repeat("x", 33) + "-"},
		{"default", strings.Repeat("x", 32) + "-y", strings.Repeat("x", 32) + "-"},
	}
	for _, tt := range tests {
		got := DeploymentName(tt.ns, tt.name)
		if !strings.HasPrefix(got, tt.prefix) || len(got) > maxNameLen || strings.Contains(got, "--") {
			t.Errorf("DeploymentName(%q, %q) = %q, want prefix %q, at most %d characters", tt.ns, tt.name, got, tt.prefix, maxNameLen)
		}
		if again := DeploymentName(tt.ns, tt.name); again != got {
			t.Errorf("DeploymentName is not stable: %q then %q", got, again)
		}
	}
	if DeploymentName("a", "amf") == DeploymentName("b", "amf") {
		t.Error("intents of one name in two namespaces share a deployment name")
	}
}

func intentOf(spec nephv1.NetworkIntentSpec) *nephv1.NetworkIntent {
	return &nephv1.NetworkIntent{ObjectMeta: metav1.ObjectMeta{Namespace: "telco", Name: "amf-west", UID: "uid-1", Generation: 1}, Spec: spec}
}

func TestDesired(t *testing.T) {
	catalog := intent.DefaultCatalog()
	catalog["amf"] = intent.Package{VnfdID: "vnfd-amf", FlavourID: "small"}
	tests := []struct {
		name  string
		spec  nephv1.NetworkIntentSpec
		check func(t *testing.T, d *o2.DeploymentSpec)
		err   string
	}{
		{
			name: "the guide's intent",
			spec: nephv1.NetworkIntentSpec{Intent: "Deploy 5G AMF with high availability in US West region", TargetComponents: []nephv1.NetworkFunction{"AMF"}},
			check: func(t *testing.T, d *o2.DeploymentSpec) {
				if len(d.Components) != 1 || d.Components[0].Name != "amf" || d.Components[0].VnfdID != "vnfd-amf" || d.Components[0].Replicas != 2 {
					t.Errorf("components = %+v", d.Components)
				}
				if d.Placement == nil || d.Placement.Spread != 2 || len(d.Placement.Regions) != 1 || d.Placement.Regions[0] != "us-west" {
					t.Errorf("placement = %+v", d.Placement)
				}
				if d.Extensions[ExtIntent] != "telco/amf-west" || d.Extensions[ExtIntentUID] != "uid-1" || !strings.HasPrefix(d.Name, "amf-west-") {
					t.Errorf("name %q, extensions %v", d.Name, d.Extensions)
				}
			},
		},
		{
			name: "structured fields override the text",
			spec: nephv1.NetworkIntentSpec{
				Intent: "run smf and upf", Region: "eu-central-1", TargetNamespace: "core", TargetCluster: "edge-1",
				ResourceConstraints: &nephv1.ResourceConstraints{CPU: "2", Memory: "1Gi"},
				Parameters:          &apiextensionsv1.JSON{Raw: []byte(`{"replicas": 3, "failover": true, "other": "kept"}`)},
			},
			check: func(t *testing.T, d *o2.DeploymentSpec) {
				if len(d.Components) != 2 || d.Components[0].Name != "smf" || d.Components[1].Name != "upf" {
					t.Fatalf("components = %+v", d.Components)
				}
				for _, c := range d.Components {
					if c.Replicas != 3 || c.Namespace != "core" || c.Resources == nil || c.Resources.CPU != "2" || c.Resources.Memory != "1Gi" {
						t.Errorf("component %+v (%+v)", c, c.Resources)
					}
				}
				if !d.Failover || d.Placement.Providers[0] != "edge-1" || d.Placement.Regions[0] != "eu-central-1" {
					t.Errorf("failover %v, placement %+v", d.Failover, d.Placement)
				}
			},
		},
		{name: "no network function", spec: nephv1.NetworkIntentSpec{Intent: "make it fast"}, err: "names no network function"},
		{name: "bad replicas", spec: nephv1.NetworkIntentSpec{Intent: "amf", Parameters: &apiextensionsv1.JSON{Raw: []byte(`{"replicas": "many"}`)}}, err: "spec.parameters.replicas"},
		{name: "parameters not an object", spec: nephv1.NetworkIntentSpec{Intent: "amf", Parameters: &apiextensionsv1.JSON{Raw: []byte(`[1]`)}}, err: "spec.parameters: not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := intentOf(tt.spec)
			reqs, params, err := Analyse(ni)
			var d *o2.DeploymentSpec
			if err == nil {
				d, err = Desired(ni, reqs, params, catalog)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

func TestDrift(t *testing.T) {
	base := func() *o2.DeploymentSpec {
		return &o2.DeploymentSpec{
			Name: "x", Description: "d",
			Components: []o2.DeploymentComponent{{Name: "amf", VnfdID: "vnfd-amf", FlavourID: "small", Replicas: 2}},
			Placement:  &o2.PlacementRules{Regions: []string{"us-west"}, Spread: 2},
		}
	}
	tests := []struct {
		name     string
		change   func(w *o2.DeploymentSpec)
		replicas int    // the patch's replicas of amf, 0 for none
		desc     bool   // the patch changes the description
		replace  string // part of the reason to replace
	}{
		{name: "in step", change: func(*o2.DeploymentSpec) {}},
		{name: "replicas", change: func(w *o2.DeploymentSpec) { w.Components[0].Replicas = 4 }, replicas: 4},
		{name: "description", change: func(w *o2.DeploymentSpec) { w.Description = "new" }, desc: true},
		{name: "another function", change: func(w *o2.DeploymentSpec) { w.Components[0].Name = "smf" }, replace: "network functions changed"},
		{name: "one more function", change: func(w *o2.DeploymentSpec) {
			w.Components = append(w.Components, o2.DeploymentComponent{Name: "smf", VnfdID: "smf"})
		}, replace: "network functions changed"},
		{name: "package", change: func(w *o2.DeploymentSpec) { w.Components[0].VnfdID = "vnfd-amf-2" }, replace: "package of amf"},
		{name: "resources", change: func(w *o2.DeploymentSpec) { w.Components[0].Resources = &o2.ComponentResources{CPU: "3"} }, replace: "resources of amf"},
		{name: "region", change: func(w *o2.DeploymentSpec) { w.Placement.Regions = []string{"eu-west"} }, replace: "region changed"},
		{name: "cluster", change: func(w *o2.DeploymentSpec) { w.Placement.Providers = []string{"edge-1"} }, replace: "target cluster"},
		{name: "spread", change: func(w *o2.DeploymentSpec) { w.Placement.Spread = 0 }, replace: "spread"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &o2.Deployment{DeploymentSpec: *base()}
			want := base()
			tt.change(want)
			patch, replace := drift(d, want)
			if tt.replace != "" {
				if !strings.Contains(replace, tt.replace) || patch != nil {
					t.Fatalf("replace = %q, patch %+v; want a replacement for %q", replace, patch, tt.replace)
				}
				return
			}
			if replace != "" {
				t.Fatalf("replace = %q, want none", replace)
			}
			if tt.replicas == 0 && !tt.desc {
				if patch != nil {
					t.Fatalf("patch = %+v for a deployment in step", patch)
				}
				return
			}
			if patch == nil {
				t.Fatal("no patch")
			}
			if tt.replicas != 0 && (len(patch.Components) != 1 || patch.Components[0].Replicas != tt.replicas) {
				t.Errorf("patch components = %+v", patch.Components)
			}
			if tt.desc != (patch.Description != nil) {
				t.Errorf("patch description = %v", patch.Description)
			}
		})
	}
	// The IMS fills in the flavour's resources: that is no drift.
	d := &o2.Deployment{DeploymentSpec: *base()}
	d.Components[0].Resources = &o2.ComponentResources{CPU: "500m", Memory: "64Mi"}
	if patch, replace := drift(d, base()); patch != nil || replace != "" {
		t.Errorf("resources filled in by the IMS: patch %+v, replace %q", patch, replace)
	}
}
