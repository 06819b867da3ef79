package inventory_test

import (
	"context"
	"github.com/nephoran/o2ims/internal/collection"
	"io"
	"log/slog"
	"testing"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/inventory/inventorytest"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const benchResources = inventorytest.Resources

func benchID(kind, i int) string { return inventorytest.ID(kind, i) }

func BenchmarkListResources(b *testing.B) {
	for _, backend := range sqlstoretest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := context.Background()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			store := sqlstoretest.Open(b, backend)
			syncer := inventory.NewSyncer(store, nil, 0, logger)
			if _, err := syncer.SyncOnce(ctx, inventorytest.Provider{Snap: inventorytest.Snapshot(benchResources)}); err != nil {
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
