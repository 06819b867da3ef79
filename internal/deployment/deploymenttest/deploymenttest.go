// Package deploymenttest stores resource pools and deployment managers as
// the Kubernetes provider reports them, for tests of placement above the
// inventory.
package deploymenttest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// GiB is a gibibyte.
const GiB = int64(1) << 30

// Pool is a resource pool of a Kubernetes cluster: 16 GiB and 110 pods
// allocatable, 1 GiB and 10 pods requested, CPU as given.
type Pool struct {
	ID, Name, DM, Region string
	Labels               map[string]string
	AllocCPU, ReqCPU     int64 // millicores
	Healthy              bool
}

// PutPool stores p.
func PutPool(t testing.TB, st *sqlstore.Store, p Pool) {
	t.Helper()
	labels := map[string]any{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	doc, _ := json.Marshal(map[string]any{
		"resourcePoolId": p.ID, "name": p.Name, "description": "", "oCloudId": uuid.NewString(), "globalLocationId": "", "location": "",
		"extensions": map[string]any{
			"provider": "kubernetes", "providerName": "k8s-" + p.Name, "deploymentManagerId": p.DM, "region": p.Region,
			"healthy": p.Healthy, "nodeCount": 2, "labels": labels,
			"utilization": map[string]any{"cpu": float64(p.ReqCPU) / float64(p.AllocCPU), "memory": 0.1},
			"capacity": map[string]any{
				"allocatable": map[string]any{"cpuMillicores": p.AllocCPU, "memoryBytes": 16 * GiB, "pods": 110},
				"requested":   map[string]any{"cpuMillicores": p.ReqCPU, "memoryBytes": GiB, "pods": 10},
			},
		},
	})
	put(t, st, inventory.ResourcePoolSchema, p.ID, doc)
}

// PutDM stores a deployment manager of a provider kind ("kubernetes"
// runs CNFs).
func PutDM(t testing.TB, st *sqlstore.Store, id, provider string) {
	t.Helper()
	doc, _ := json.Marshal(map[string]any{"deploymentManagerId": id, "name": "dm-" + id[:8], "description": "", "oCloudId": uuid.NewString(),
		"serviceUri": "https://k8s.example", "extensions": map[string]any{"provider": provider}})
	put(t, st, inventory.DeploymentManagerSchema, id, doc)
}

func put(t testing.TB, st *sqlstore.Store, sc *query.Schema, id string, doc []byte) {
	t.Helper()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx *sqlstore.ObjectTx) error { return tx.Put(ctx, sc, id, doc) }); err != nil {
		t.Fatal(err)
	}
}
