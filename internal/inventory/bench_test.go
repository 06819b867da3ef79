package inventory_test

import (
	"context"
	"fmt"
	"github.com/nephoran/o2ims/internal/collection"
	"io"
	"log/slog"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

type fixedProvider struct{ snap ims.Snapshot }

func (p fixedProvider) Name() string                                   { return "bench" }
func (p fixedProvider) Discover(context.Context) (ims.Snapshot, error) { return p.snap, nil }

const benchResources = 100_000

func benchID(kind, i int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", kind, i) }

// benchSnapshot has 100,000 resources in 10 pools of 50 types; a quarter
// of them are in zone "east-…", nested two levels inside extensions.
func benchSnapshot() ims.Snapshot {
	var s ims.Snapshot
	for i := range 50 {
		s.ResourceTypes = append(s.ResourceTypes, ims.ResourceType{ResourceTypeID: benchID(1, i), Name: fmt.Sprintf("type %d", i), ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassCompute})
	}
	for i := range 10 {
		s.ResourcePools = append(s.ResourcePools, ims.ResourcePool{ResourcePoolID: benchID(2, i), Name: fmt.Sprintf("pool %d", i)})
	}
	zones := []string{"east-1", "west-1", "north-1", "south-1"}
	for i := range benchResources {
		s.Resources = append(s.Resources, ims.Resource{
			ResourceID:     benchID(3, i),
			ResourcePoolID: benchID(2, i%10),
			ResourceTypeID: benchID(1, i%50),
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

func BenchmarkListResources(b *testing.B) {
	for _, backend := range sqlstoretest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := context.Background()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			store := sqlstoretest.Open(b, backend)
			syncer := inventory.NewSyncer(store, nil, 0, logger)
			if _, err := syncer.SyncOnce(ctx, fixedProvider{benchSnapshot()}); err != nil {
				b.Fatal(err)
			}
			if n, err := store.Count(ctx, inventory.ResourceSchema); err != nil || n != benchResources {
				b.Fatalf("seeded %d resources: %v", n, err)
			}
			svc := inventory.NewService(store, inventory.CloudConfig{}, logger)
			cases := []struct{ name, filter string }{
				{"eq-indexed", "(eq,resourceTypeId," + benchID(1, 7) + ")"},
				{"cont-nested-extension", "(cont,extensions/labels/zone,east)"},
				{"gt-number-extension", "(gt,extensions/cpuCores,60)"},
				{"eq-list", "(eq,tags,rack-17)"},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						page, err := svc.List(ctx, inventory.ResourceSchema, collection.Request{Filter: c.filter})
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Items) != collection.DefaultLimit || page.NextMarker == "" {
							b.Fatalf("%s: page of %d", c.filter, len(page.Items))
						}
					}
				})
			}
		})
	}
}
