package provisioning

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// planeClusters resolves the deployment manager "dm-1" to the test
// control plane, "dm-local" to a host that is not a cluster, any other to
// nothing, as the server's registry does.
type planeClusters struct{ cfg *rest.Config }

func (c planeClusters) RESTConfig(_ context.Context, id string) (*rest.Config, error) {
	switch id {
	case "dm-1":
		return rest.CopyConfig(c.cfg), nil
	case "dm-local":
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "deployment manager %q is not a Kubernetes cluster", id)
	}
	return nil, ims.Errorf(ims.ENOTFOUND, "deployment manager %q not found", id)
}

type k8sObject struct {
	Metadata struct {
		Labels            map[string]string `json:"labels"`
		DeletionTimestamp *string           `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Hard map[string]string `json:"hard"`
	} `json:"spec"`
}

func TestNamespaceRealizerValidate(t *testing.T) {
	n := NewNamespaceRealizer(planeClusters{cfg: &rest.Config{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	cases := []struct {
		name   string
		params map[string]any
		err    string
	}{
		{"registered cluster", map[string]any{"deploymentManagerId": "dm-1", "namespace": "a"}, ""},
		{"unknown deployment manager", map[string]any{"deploymentManagerId": "nope", "namespace": "a"},
			`templateParameters.deploymentManagerId: no deployment manager "nope" is registered`},
		{"not a cluster", map[string]any{"deploymentManagerId": "dm-local", "namespace": "a"},
			`templateParameters.deploymentManagerId: deployment manager "dm-local" is not a Kubernetes cluster`},
		{"bad quantity", map[string]any{"deploymentManagerId": "dm-1", "namespace": "a", "quota": map[string]any{"memory": "4Gi0"}},
			`templateParameters.quota.memory: "4Gi0" is not a Kubernetes quantity`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := n.Validate(context.Background(), Template{}, c.params)
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ims.ErrorCode(err) != ims.EINVALID || ims.ErrorMessage(err) != c.err {
				t.Fatalf("got %s %q, want %q", ims.ErrorCode(err), ims.ErrorMessage(err), c.err)
			}
		})
	}
}

// TestNamespaceRealizer applies, changes and deletes a namespace on the
// test control plane.
func TestNamespaceRealizer(t *testing.T) {
	plane := testenv.Require(t)
	cfg, err := clientcmd.RESTConfigFromKubeConfig(plane.RESTConfigBytes)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := NewNamespaceRealizer(planeClusters{cfg: cfg}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ns := fmt.Sprintf("prov-%d", time.Now().UnixNano()%1000000)
	job := Job{RequestID: reqID, Parameters: map[string]any{"deploymentManagerId": "dm-1", "namespace": ns,
		"labels": map[string]any{"team": "a"}, "quota": map[string]any{"cpu": "2", "memory": "4Gi", "pods": float64(10)}}}

	p, err := n.Apply(ctx, job)
	if err != nil || p.Phase != Fulfilled || len(p.Resources) != 2 {
		t.Fatalf("apply: %v %+v", err, p)
	}
	var got k8sObject
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+ns, "", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.Metadata.Labels[LabelRequest] != reqID || got.Metadata.Labels["team"] != "a" {
		t.Fatalf("namespace labels %v", got.Metadata.Labels)
	}
	quotaPath := "/api/v1/namespaces/" + ns + "/resourcequotas/" + QuotaName
	if err := plane.Do(ctx, "GET", quotaPath, "", nil, &got); err != nil {
		t.Fatal(err)
	}
	if h := got.Spec.Hard; h["requests.cpu"] != "2" || h["requests.memory"] != "4Gi" || h["pods"] != "10" {
		t.Fatalf("quota %v", h)
	}

	// A changed quota is applied again; no quota removes it.
	job.State = p.State
	job.Parameters["quota"] = map[string]any{"cpu": "3"}
	if p, err = n.Apply(ctx, job); err != nil || p.Phase != Fulfilled {
		t.Fatalf("re-apply: %v %+v", err, p)
	}
	got = k8sObject{}
	if err := plane.Do(ctx, "GET", quotaPath, "", nil, &got); err != nil || got.Spec.Hard["requests.cpu"] != "3" || got.Spec.Hard["pods"] != "" {
		t.Fatalf("changed quota %v %v", err, got.Spec.Hard)
	}
	delete(job.Parameters, "quota")
	if p, err = n.Apply(ctx, job); err != nil || p.Phase != Fulfilled || len(p.Resources) != 1 {
		t.Fatalf("apply without quota: %v %+v", err, p)
	}
	if err := plane.Do(ctx, "GET", quotaPath, "", nil, nil); !testenv.IsNotFound(err) {
		t.Fatalf("the quota is still there: %v", err)
	}

	// Another request does not take the namespace over.
	other := Job{RequestID: "0b9f1c1e-0000-4000-8000-000000000001", Parameters: job.Parameters}
	if p, err := n.Apply(ctx, other); err != nil || p.Phase != Failed || !strings.Contains(p.Message, "exists already") {
		t.Fatalf("foreign namespace: %v %+v", err, p)
	}
	// ... and its deletion leaves it alone.
	if p, err := n.Delete(ctx, other); err != nil || p.Phase != Deleted {
		t.Fatalf("delete of the other request: %v %+v", err, p)
	}
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+ns, "", nil, &got); err != nil || got.Metadata.DeletionTimestamp != nil {
		t.Fatalf("the namespace was touched: %v", err)
	}

	// Delete: Progressing until the namespace is gone.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		p, err := n.Delete(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if p.Phase == Deleted {
			break
		}
		if p.Phase != Progressing || time.Now().After(deadline) {
			t.Fatalf("delete: %+v", p)
		}
		time.Sleep(p.RetryAfter)
	}
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+ns, "", nil, nil); !testenv.IsNotFound(err) {
		t.Fatalf("the namespace is still there: %v", err)
	}
}
