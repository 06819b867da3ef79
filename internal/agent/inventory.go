package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
)

// volatileHostFacts are host extensions that change all the time without
// anything having changed: reporting them would send the inventory on
// every heartbeat. The server's lease says what they would (that the node
// is up).
var volatileHostFacts = []string{"uptimeSeconds"}

// inventoryOf turns a discovery of the local provider into the inventory
// the agent reports: its resource types and resources (the pool, site and
// deployment manager are the server's to decide), without elements (the
// server rebuilds them) and without volatile facts, and hashes it.
func inventoryOf(snap ims.Snapshot) (edge.Inventory, error) {
	inv := edge.Inventory{
		ResourceTypes: slices.Clone(snap.ResourceTypes),
		Resources:     make([]ims.Resource, 0, len(snap.Resources)),
	}
	for _, r := range snap.Resources {
		r.Elements = nil
		r.ResourcePoolID = ""
		if r.ParentID == "" {
			r.Extensions = maps.Clone(r.Extensions)
			for _, k := range volatileHostFacts {
				delete(r.Extensions, k)
			}
			if mem, ok := r.Extensions["memory"].(map[string]any); ok {
				mem = maps.Clone(mem)
				delete(mem, "availableBytes")
				r.Extensions["memory"] = mem
			}
		}
		inv.Resources = append(inv.Resources, r)
	}
	// The discovery sorts everything and json.Marshal sorts map keys, so
	// an unchanged node hashes the same every time.
	data, err := json.Marshal(inv)
	if err != nil {
		return edge.Inventory{}, err
	}
	sum := sha256.Sum256(data)
	inv.Hash = "sha256:" + hex.EncodeToString(sum[:])
	return inv, nil
}
