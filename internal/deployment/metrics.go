package deployment

import (
	"encoding/json"

	"github.com/nephoran/o2ims/internal/collection"
)

// NewCollector returns the o2ims_deployments{phase} gauge.
func NewCollector(store collection.Store) *collection.CountGauge {
	return collection.NewCountGauge(store, Schema, "o2ims_deployments", "Deployments by phase.", "phase", Phases, func(doc json.RawMessage) string {
		var d struct {
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		}
		_ = json.Unmarshal(doc, &d)
		return d.Status.Phase
	})
}
