package azure

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/azure/azuretest"
	"github.com/nephoran/o2ims/internal/provisioning"
)

// loadTemplate reads the built-in template file.
func loadTemplate(t *testing.T) provisioning.Template {
	t.Helper()
	b, err := os.ReadFile("../../provisioning/templates/azure-compute-vm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Name            string          `json:"name"`
		Version         string          `json:"version"`
		Kind            string          `json:"kind"`
		ParameterSchema json.RawMessage `json:"parameterSchema"`
		Defaults        map[string]any  `json:"defaults"`
		Body            string          `json:"body"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Kind != TemplateKind || f.Name != "azure-compute-vm" {
		t.Fatalf("template %s of kind %s", f.Name, f.Kind)
	}
	var schema struct {
		Required   []string       `json:"required"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(f.ParameterSchema, &schema); err != nil || schema.Properties["deploymentManagerId"] == nil || schema.Required[0] != "deploymentManagerId" {
		t.Fatalf("parameterSchema %s: %v", f.ParameterSchema, err)
	}
	var body struct {
		Parameters map[string]any   `json:"parameters"`
		Resources  []map[string]any `json:"resources"`
	}
	if err := json.Unmarshal([]byte(f.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	// Every request parameter but those the realizer consumes is an ARM
	// parameter.
	for k := range schema.Properties {
		if _, ok := body.Parameters[k]; !ok && k != "deploymentManagerId" && k != "subnetName" {
			t.Errorf("schema parameter %s is not an ARM parameter", k)
		}
	}
	return provisioning.Template{Name: f.Name, Version: f.Version, Kind: f.Kind, ParameterSchema: f.ParameterSchema, Defaults: f.Defaults, Body: []byte(f.Body)}
}

// realizerFixture is a provider on the world and its realizer.
func realizerFixture(t *testing.T) (*azuretest.World, *Provider, *ARMRealizer) {
	t.Helper()
	w := world(t)
	p := newProvider(t, testOptions(w))
	lookup := func(_ context.Context, id string) (*Provider, error) {
		if id == p.DeploymentManagerID() {
			return p, nil
		}
		return nil, ims.Errorf(ims.ENOTFOUND, "deployment manager %s not found", id)
	}
	r := NewARMRealizer(lookup, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return w, p, r
}

func vmJob(t *testing.T, p *Provider, requestID, vmName string) provisioning.Job {
	params := map[string]any{"deploymentManagerId": p.DeploymentManagerID(), "vmName": vmName, "sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test"}
	tpl := loadTemplate(t)
	for k, v := range tpl.Defaults {
		params[k] = v
	}
	return provisioning.Job{RequestID: requestID, Template: tpl, Parameters: params}
}

// run calls step until it reports a final phase, feeding back its state.
func run(t *testing.T, job provisioning.Job, step func(context.Context, provisioning.Job) (provisioning.Progress, error)) provisioning.Progress {
	t.Helper()
	for range 20 {
		pr, err := step(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		job.State = pr.State
		if pr.Phase != provisioning.Progressing {
			return pr
		}
	}
	t.Fatal("no final phase after 20 calls")
	return provisioning.Progress{}
}

func TestARMRealizerApplyAndDelete(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.DeploySteps = 2
	job := vmJob(t, p, "5f0c2d1e-0000-4000-8000-000000000001", "edge-9")

	first, err := r.Apply(context.Background(), job)
	if err != nil || first.Phase != provisioning.Progressing {
		t.Fatalf("first Apply: %+v, %v", first, err)
	}
	name := DeploymentName(job.RequestID)
	d, ok := w.Deployment(name)
	if !ok || d.Mode != "Incremental" || d.Parameters["vmName"] != "edge-9" || d.Parameters["vmSize"] != "Standard_D2s_v5" || d.Parameters["location"] != "westeurope" ||
		d.Parameters["subnetId"] != w.SubnetID("compute") || d.Template == nil {
		t.Fatalf("deployment %+v", d)
	}
	if _, ok := d.Parameters["deploymentManagerId"]; ok {
		t.Error("deploymentManagerId was passed to ARM")
	}
	tags, _ := d.Parameters["tags"].(map[string]any)
	if tags["ManagedBy"] != "o2ims" || tags[RequestTag] != job.RequestID {
		t.Errorf("deployment tags %v", tags)
	}

	job.State = first.State
	done := run(t, job, r.Apply)
	if done.Phase != provisioning.Fulfilled || len(done.Resources) != 1 || done.Resources[0].Name != "edge-9" || done.Resources[0].Phase != provisioning.ResourceProvisioned {
		t.Fatalf("Apply: %+v", done)
	}
	// The resource id is the one discovery publishes for the VM, in the
	// compute pool.
	snap, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, res := range snap.Resources {
		if res.ResourceID == done.Resources[0].ID {
			found = res.Extensions["vmName"] == "edge-9" && res.Extensions["subnet"] == "compute"
		}
	}
	if !found {
		t.Errorf("resource %s not in the inventory as edge-9 of the compute pool", done.Resources[0].ID)
	}
	// Applying again changes nothing.
	job.State = done.State
	again, err := r.Apply(context.Background(), job)
	if err != nil || again.Phase != provisioning.Fulfilled {
		t.Errorf("Apply again: %+v, %v", again, err)
	}

	job.State = again.State
	del := run(t, job, r.Delete)
	if del.Phase != provisioning.Deleted {
		t.Fatalf("Delete: %+v", del)
	}
	if w.HasVM("edge-9") || w.HasNIC("edge-9-nic") {
		t.Error("the VM or its NIC is still there")
	}
	if _, ok := w.Deployment(name); ok {
		t.Error("the deployment record is still there")
	}
	if !w.HasVM("edge-1") {
		t.Error("a VM the deployment did not create was deleted")
	}
	// Deleting what is gone is done at once.
	if pr, err := r.Delete(context.Background(), job); err != nil || pr.Phase != provisioning.Deleted {
		t.Errorf("Delete again: %+v, %v", pr, err)
	}
}

func TestARMRealizerFailedDeployment(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.FailNextDeployment("The requested VM size Standard_D2s_v5 is not available in the current region.")
	pr := run(t, vmJob(t, p, "req-failed", "edge-8"), r.Apply)
	if pr.Phase != provisioning.Failed || !strings.Contains(pr.Message, "ResourceDeploymentFailure: The requested VM size Standard_D2s_v5 is not available") {
		t.Fatalf("Apply: %+v", pr)
	}
}

func TestARMRealizerRejectedTemplate(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.RejectNextDeployment("InvalidTemplate")
	pr, err := r.Apply(context.Background(), vmJob(t, p, "req-rejected", "edge-4"))
	if err != nil || pr.Phase != provisioning.Failed || !strings.Contains(pr.Message, "Azure refused ARM deployment o2ims-req-rejected: InvalidTemplate") {
		t.Fatalf("Apply: %+v, %v", pr, err)
	}
}

func TestARMRealizerResumes(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.DeploySteps = 3
	job := vmJob(t, p, "req-resume", "edge-7")
	pr, err := r.Apply(context.Background(), job)
	if err != nil || pr.Phase != provisioning.Progressing {
		t.Fatalf("Apply: %+v, %v", pr, err)
	}
	// A restart: a new realizer (and provider) with the stored state
	// reads the deployment instead of submitting it again.
	p2 := newProvider(t, testOptions(w))
	r2 := NewARMRealizer(func(context.Context, string) (*Provider, error) { return p2, nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	job.State = pr.State
	done := run(t, job, r2.Apply)
	if done.Phase != provisioning.Fulfilled {
		t.Fatalf("after the restart: %+v", done)
	}
	if n := w.Calls("DeploymentsClient.BeginCreateOrUpdate"); n != 1 {
		t.Errorf("deployment submitted %d times, want once", n)
	}
	if done.Resources[0].ID != p.ResourceID(w.VMID("edge-7")) {
		t.Errorf("resources %+v", done.Resources)
	}

	// State lost altogether (a crash before it was stored): the
	// deployment that exists is read, not submitted again.
	job.State = nil
	if pr, err := r2.Apply(context.Background(), job); err != nil || pr.Phase != provisioning.Fulfilled || w.Calls("DeploymentsClient.BeginCreateOrUpdate") != 1 {
		t.Errorf("without state: %+v, %v", pr, err)
	}
}

func TestARMRealizerTimeout(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.DeploySteps = 100
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	r.Now = func() time.Time { return now }
	r.Timeout = 30 * time.Minute
	job := vmJob(t, p, "req-slow", "edge-6")
	pr, err := r.Apply(context.Background(), job)
	if err != nil || pr.Phase != provisioning.Progressing {
		t.Fatalf("Apply: %+v, %v", pr, err)
	}
	job.State = pr.State
	now = now.Add(31 * time.Minute)
	pr, err = r.Apply(context.Background(), job)
	if err != nil || pr.Phase != provisioning.Failed || !strings.Contains(pr.Message, "did not finish within 30m0s (it is Running)") {
		t.Fatalf("after the timeout: %+v, %v", pr, err)
	}
}

func TestARMRealizerTransientErrors(t *testing.T) {
	w, p, r := realizerFixture(t)
	w.Unreachable(true)
	if _, err := r.Apply(context.Background(), vmJob(t, p, "req-down", "edge-5")); err == nil || !strings.Contains(err.Error(), "the endpoint is unreachable") {
		t.Errorf("Apply while Azure is unreachable: %v (want a transient error)", err)
	}
}

func TestARMRealizerValidate(t *testing.T) {
	_, p, r := realizerFixture(t)
	tpl := loadTemplate(t)
	cases := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"valid", map[string]any{"deploymentManagerId": p.DeploymentManagerID(), "vmName": "a1", "vmSize": "standard_d4s_v5"}, ""},
		{"provider default size", map[string]any{"deploymentManagerId": p.DeploymentManagerID(), "vmName": "a1"}, ""},
		{"unknown size", map[string]any{"deploymentManagerId": p.DeploymentManagerID(), "vmName": "a1", "vmSize": "Standard_M416ms_v2"},
			`templateParameters.vmSize: "Standard_M416ms_v2" is not a VM size of Azure provider azure-edge (supported: Standard_D2s_v5, Standard_D4s_v5, Standard_E2s_v5)`},
		{"unknown deployment manager", map[string]any{"deploymentManagerId": "0b7e0c4e-0000-4000-8000-000000000000", "vmName": "a1"},
			`templateParameters.deploymentManagerId: "0b7e0c4e-0000-4000-8000-000000000000" is not the deployment manager of a registered Azure provider`},
		{"unknown subnet", map[string]any{"deploymentManagerId": p.DeploymentManagerID(), "vmName": "a1", "subnetName": "mgmt"},
			`templateParameters.subnetName: "mgmt" is not a subnet of Azure provider azure-edge`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Validate(context.Background(), tpl, tc.params)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ims.ErrorCode(err) != ims.EINVALID || ims.ErrorMessage(err) != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDeploymentName(t *testing.T) {
	for _, id := range []string{"5f0c2d1e-0000-4000-8000-000000000001", strings.Repeat("x", 100), "a b/c"} {
		n := DeploymentName(id)
		if len(n) > 64 || !strings.HasPrefix(n, "o2ims-") || invalidDeploymentChars.MatchString(n) {
			t.Errorf("DeploymentName(%q) = %q", id, n)
		}
	}
	if DeploymentName(strings.Repeat("x", 100)) == DeploymentName(strings.Repeat("x", 99)) {
		t.Error("long ids collide")
	}
}
