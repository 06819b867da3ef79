package o2_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEndToEndProvisioning provisions a namespace through the SDK against
// the real server and control plane: the templates, a request until
// FULFILLED, the problems of wrong requests, a change, and the deletion
// until the request is gone.
func TestEndToEndProvisioning(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "prov")
	endpoint := "http://" + startServer(t, "--local-provider=false")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}

	tpls, err := c.Templates().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "kubernetes-namespace")})
	if err != nil || len(tpls.Items) != 1 || tpls.Items[0].Extensions["realizable"] != "true" {
		t.Fatalf("templates: %+v %v", tpls, err)
	}
	tpl, err := c.Templates().Get(ctx, tpls.Items[0].ArtifactResourceID)
	if err != nil || tpl.Name != "kubernetes-namespace" || tpl.ParameterSchema["type"] != "object" {
		t.Fatalf("template: %+v %v", tpl, err)
	}
	if d, err := c.Templates().Defaults(ctx, "kubernetes-namespace.1.0.0"); err != nil || d == nil {
		t.Fatalf("defaults: %v %v", d, err)
	}

	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
		t.Fatalf("register provider: %v", err)
	}
	dm := firstOf(ctx, t, "deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", uniq)})
	})
	data := o2.ProvisioningRequestData{
		ProvisioningRequestID: "4d5e6f70-8192-4a3b-9c4d-" + strings.Repeat("0", 4) + uniq[len(uniq)-8:],
		Name:                  "sdk", TemplateName: "kubernetes-namespace", TemplateVersion: "1.0.0",
		TemplateParameters: map[string]any{"deploymentManagerId": dm.DeploymentManagerID, "namespace": uniq, "quota": map[string]any{"pods": 3}},
	}
	prs := c.ProvisioningRequests()
	r, err := prs.Create(ctx, data)
	if err != nil || r.Status.ProvisioningPhase != o2.ProvisioningPending || r.ProvisionedResourceSet.NodeClusterID != dm.DeploymentManagerID {
		t.Fatalf("create: %+v %v", r, err)
	}
	if r, err = prs.Wait(ctx, data.ProvisioningRequestID, o2.ProvisioningFulfilled); err != nil {
		t.Fatalf("wait: %+v %v", r, err)
	}
	if len(r.Status.InfrastructureResourceProvisioningStatus) != 2 {
		t.Errorf("resource statuses: %+v", r.Status)
	}
	if _, err := prs.Create(ctx, data); !o2.IsConflict(err) {
		t.Errorf("the same id twice: %v", err)
	}
	bad := data
	bad.ProvisioningRequestID = "4d5e6f70-8192-4a3b-9c4d-000000000001"
	bad.TemplateParameters = map[string]any{"deploymentManagerId": dm.DeploymentManagerID, "namespace": uniq, "quota": map[string]any{"pods": -1}}
	var pe *o2.ProblemError
	if _, err := prs.Create(ctx, bad); !errors.As(err, &pe) || pe.Status != 400 || pe.Detail != "templateParameters.quota.pods: must be at least 0" {
		t.Errorf("a parameter outside the schema: %v", err)
	}

	data.TemplateParameters["quota"] = map[string]any{"pods": 4}
	if r, err = prs.Update(ctx, data); err != nil || r.Status.ProvisioningPhase != o2.ProvisioningPending {
		t.Fatalf("update: %+v %v", r, err)
	}
	if r, err = prs.Wait(ctx, data.ProvisioningRequestID, o2.ProvisioningFulfilled); err != nil {
		t.Fatalf("wait after the update: %+v %v", r, err)
	}
	var quota struct {
		Spec struct {
			Hard map[string]string `json:"hard"`
		} `json:"spec"`
	}
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+uniq+"/resourcequotas/o2ims-quota", "", nil, &quota); err != nil || quota.Spec.Hard["pods"] != "4" {
		t.Fatalf("quota: %v %v", err, quota.Spec.Hard)
	}

	if err := prs.Delete(ctx, data.ProvisioningRequestID); err != nil {
		t.Fatal(err)
	}
	if err := prs.WaitDeleted(ctx, data.ProvisioningRequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Get(ctx, data.ProvisioningRequestID); !o2.IsNotFound(err) {
		t.Errorf("after the deletion: %v", err)
	}
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+uniq, "", nil, nil); !testenv.IsNotFound(err) {
		t.Errorf("the namespace is still there: %v", err)
	}
}
