package sqlstore_test

import (
	"testing"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/edge/edgetest"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// TestEdgeStoreConformance proves the SQL edge store by the cases that
// prove edge.MemoryStore, on both backends.
func TestEdgeStoreConformance(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		edgetest.StoreConformance(t, func(t *testing.T) edge.Store {
			return sqlstoretest.Open(t, b).Edge()
		})
	})
}
