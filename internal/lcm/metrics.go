package lcm

import (
	"encoding/json"

	"github.com/nephoran/o2ims/internal/collection"
)

// NewCollector returns the o2ims_cnf_instances{state} gauge, which the
// guide's dashboard counts instances by.
func NewCollector(store collection.Store) *collection.CountGauge {
	states := []string{NotInstantiated, Instantiated, PhaseInstantiating, PhaseScaling, PhaseTerminating, PhaseFailed}
	return collection.NewCountGauge(store, InstanceSchema, "o2ims_cnf_instances", "CNF instances by phase.", "state", states, func(doc json.RawMessage) string {
		var inst struct {
			Phase string `json:"phase"`
		}
		_ = json.Unmarshal(doc, &inst)
		return inst.Phase
	})
}
