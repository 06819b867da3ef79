// Package inventorytest holds the inventory data sets the benchmarks
// share: the in-process ones (go test -bench) and the HTTP load
// benchmark of the real binary (hack/loadbench).
package inventorytest

import (
	"context"
	"fmt"

	"github.com/nephoran/o2ims/internal/ims"
)

// Resources is the size of the benchmark data set.
const Resources = 100_000

// ID is the identifier of the i-th object of a kind (1 types, 2 pools,
// 3 resources).
func ID(kind, i int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", kind, i) }

// Snapshot has n resources in 10 pools of 50 types; a quarter of them are
// in zone "east-…", nested two levels inside extensions; each has two
// tags (server, rack-<i%40>) and extensions.cpuCores 16 to 63.
func Snapshot(n int) ims.Snapshot {
	var s ims.Snapshot
	for i := range 50 {
		s.ResourceTypes = append(s.ResourceTypes, ims.ResourceType{ResourceTypeID: ID(1, i), Name: fmt.Sprintf("type %d", i), ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassCompute})
	}
	for i := range 10 {
		s.ResourcePools = append(s.ResourcePools, ims.ResourcePool{ResourcePoolID: ID(2, i), Name: fmt.Sprintf("pool %d", i)})
	}
	zones := []string{"east-1", "west-1", "north-1", "south-1"}
	for i := range n {
		s.Resources = append(s.Resources, ims.Resource{
			ResourceID:     ID(3, i),
			ResourcePoolID: ID(2, i%10),
			ResourceTypeID: ID(1, i%50),
			GlobalAssetID:  fmt.Sprintf("asset-%d", i),
			Description:    fmt.Sprintf("server %d", i),
			Tags:           []string{"server", fmt.Sprintf("rack-%d", i%40)},
			Extensions: ims.Extensions{
				"labels":   map[string]any{"zone": zones[i%4], "tier": i % 3},
				"cpuCores": 16 + i%48,
			},
		})
	}
	return s
}

// Provider reports a fixed snapshot as the provider "bench".
type Provider struct{ Snap ims.Snapshot }

// Name is "bench".
func (p Provider) Name() string { return "bench" }

// Discover returns the snapshot.
func (p Provider) Discover(context.Context) (ims.Snapshot, error) { return p.Snap, nil }
