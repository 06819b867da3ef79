package edge_test

import (
	"testing"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/edge/edgetest"
)

// TestMemoryEdgeStoreConformance runs the same cases on edge.MemoryStore,
// the behaviour the SQL store matches.
func TestMemoryEdgeStoreConformance(t *testing.T) {
	edgetest.StoreConformance(t, func(*testing.T) edge.Store { return edge.NewMemoryStore() })
}
