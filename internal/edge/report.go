package edge

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// maxIDLen bounds the ids in an inventory.
const maxIDLen = 256

// sequenceError refuses a report whose sequence is not after the last
// accepted one, and says which that was (Problem.LastSequence).
type sequenceError struct {
	last uint64
	err  *ims.Error
}

func (e *sequenceError) Error() string { return e.err.Error() }
func (e *sequenceError) Unwrap() error { return e.err }

// Heartbeat renews the lease of node (authenticated by its certificate):
// the report must be its own, fresh and newer than the last. It answers
// with the interval to keep and whether the server wants the inventory.
func (s *Service) Heartbeat(ctx context.Context, node Node, req HeartbeatRequest, remoteAddr string) (HeartbeatResponse, error) {
	if err := checkDescriptive(req.AgentVersion, req.Addresses); err != nil {
		return HeartbeatResponse{}, err
	}
	if len(req.InventoryHash) > maxIDLen {
		return HeartbeatResponse{}, ims.Errorf(ims.EINVALID, "inventoryHash must be at most %d characters", maxIDLen)
	}
	ch := s.begin()
	defer ch.end(ctx)
	n, err := s.store.Node(ctx, node.ID)
	if err != nil {
		return HeartbeatResponse{}, err
	}
	now := s.now()
	if err := s.acceptReportLocked(&n, req.Report, now, ch); err != nil {
		return HeartbeatResponse{}, err
	}
	if n.AgentVersion != req.AgentVersion || !slices.Equal(n.Addresses, req.Addresses) || n.RemoteAddress != remoteAddr {
		n.AgentVersion, n.Addresses, n.RemoteAddress = req.AgentVersion, req.Addresses, remoteAddr
		ch.add(eventChanged, n)
	}
	if err := s.store.PutNode(ctx, n); err != nil {
		return HeartbeatResponse{}, err
	}
	return HeartbeatResponse{
		HeartbeatIntervalSeconds: Seconds(s.opts.HeartbeatInterval),
		SendInventory:            n.InventoryHash == "" || (req.InventoryHash != "" && req.InventoryHash != n.InventoryHash),
	}, nil
}

// ReportInventory stores the inventory of node (authenticated by its
// certificate). It renews the lease like a heartbeat.
func (s *Service) ReportInventory(ctx context.Context, node Node, req InventoryRequest) error {
	inv, err := s.checkInventory(req.Inventory)
	if err != nil {
		return err
	}
	ch := s.begin()
	defer ch.end(ctx)
	n, err := s.store.Node(ctx, node.ID)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.acceptReportLocked(&n, req.Report, now, ch); err != nil {
		return err
	}
	if err := s.putInventoryLocked(ctx, &n, &inv, now); err != nil {
		return err
	}
	ch.add(eventChanged, n)
	s.log.InfoContext(ctx, "edge node inventory received", "node", n.Name, "node_id", n.ID, "hash", inv.Hash, "resources", len(inv.Resources))
	return nil
}

// acceptReportLocked checks a report of n against replay and clock skew and,
// if it passes, counts it as the node's latest sign of life.
func (s *Service) acceptReportLocked(n *Node, rep Report, now time.Time, ch *change) error {
	if rep.NodeID != "" && rep.NodeID != n.ID {
		return ims.Errorf(ims.EFORBIDDEN, "a node can only report for itself: this client certificate is edge node %s (%s), not %s", n.Name, n.ID, rep.NodeID)
	}
	if rep.Timestamp.IsZero() {
		return ims.Errorf(ims.EINVALID, "timestamp is required")
	}
	if skew := now.Sub(rep.Timestamp).Abs(); skew > s.opts.ClockSkew {
		return ims.Errorf(ims.EUNPROCESSABLE, "the report's timestamp %s is %s away from the server's clock, more than the %s tolerated; check the node's time synchronisation",
			rep.Timestamp.UTC().Format(time.RFC3339Nano), skew.Round(time.Millisecond), s.opts.ClockSkew)
	}
	if rep.Sequence <= n.LastSequence {
		return &sequenceError{last: n.LastSequence, err: ims.Errorf(ims.ECONFLICT,
			"report sequence %d is not after the last accepted one, %d: the report is a replay or out of order", rep.Sequence, n.LastSequence)}
	}
	n.LastSequence = rep.Sequence
	n.LastHeartbeat = now
	if !n.Reachable {
		n.Reachable = true
		s.log.Info("edge node reachable again", "node", n.Name, "node_id", n.ID)
		ch.add(eventReachable, *n)
	}
	return nil
}

// checkInventory bounds and checks an inventory: unique ids, known types,
// one root (the host) and parents that exist. It returns a copy without
// elements, which the provider rebuilds.
func (s *Service) checkInventory(inv Inventory) (Inventory, error) {
	switch {
	case inv.Hash == "":
		return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.hash is required")
	case len(inv.Hash) > maxIDLen:
		return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.hash must be at most %d characters", maxIDLen)
	case len(inv.Resources) > s.opts.MaxResources || len(inv.ResourceTypes) > s.opts.MaxResources:
		return Inventory{}, ims.Errorf(ims.EUNPROCESSABLE, "the inventory lists more than %d resources or resource types", s.opts.MaxResources)
	case len(inv.Resources) == 0:
		return Inventory{}, ims.Errorf(ims.EUNPROCESSABLE, "the inventory lists no resources; the node itself is one")
	}
	types := make(map[string]bool, len(inv.ResourceTypes))
	for i, t := range inv.ResourceTypes {
		if t.ResourceTypeID == "" || len(t.ResourceTypeID) > maxIDLen {
			return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.resourceTypes[%d].resourceTypeId must be 1 to %d characters", i, maxIDLen)
		}
		if types[t.ResourceTypeID] {
			return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.resourceTypes: %s is listed twice", t.ResourceTypeID)
		}
		types[t.ResourceTypeID] = true
	}
	ids := make(map[string]bool, len(inv.Resources))
	for i, r := range inv.Resources {
		if r.ResourceID == "" || len(r.ResourceID) > maxIDLen {
			return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.resources[%d].resourceId must be 1 to %d characters", i, maxIDLen)
		}
		if ids[r.ResourceID] {
			return Inventory{}, ims.Errorf(ims.EINVALID, "inventory.resources: %s is listed twice", r.ResourceID)
		}
		ids[r.ResourceID] = true
		if !types[r.ResourceTypeID] {
			return Inventory{}, ims.Errorf(ims.EUNPROCESSABLE, "inventory.resources: %s has resource type %q, which inventory.resourceTypes does not list", r.ResourceID, r.ResourceTypeID)
		}
	}
	out := Inventory{Hash: inv.Hash, ResourceTypes: inv.ResourceTypes, Resources: make([]ims.Resource, 0, len(inv.Resources))}
	roots := 0
	for _, r := range inv.Resources {
		switch {
		case r.ParentID == "":
			roots++
		case r.ParentID == r.ResourceID || !ids[r.ParentID]:
			return Inventory{}, ims.Errorf(ims.EUNPROCESSABLE, "inventory.resources: %s has parent %q, which the inventory does not list", r.ResourceID, r.ParentID)
		}
		r.Elements = nil
		out.Resources = append(out.Resources, r)
	}
	if roots != 1 {
		return Inventory{}, ims.Errorf(ims.EUNPROCESSABLE, "the inventory has %d resources without a parent; exactly one, the node itself, is expected", roots)
	}
	return out, nil
}

// putInventoryLocked stores inv (when not nil) as n's inventory and n with
// its hash.
func (s *Service) putInventoryLocked(ctx context.Context, n *Node, inv *Inventory, now time.Time) error {
	if inv == nil {
		return nil
	}
	doc, err := json.Marshal(inv)
	if err != nil {
		return ims.Internal(err, "the inventory could not be stored")
	}
	if err := s.store.PutInventory(ctx, n.ID, StoredInventory{Hash: inv.Hash, Document: doc, ReceivedAt: now}); err != nil {
		return err
	}
	n.InventoryHash = inv.Hash
	return s.store.PutNode(ctx, *n)
}
