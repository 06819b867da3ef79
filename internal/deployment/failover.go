package deployment

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// failover re-places the component parts (by CNF instance) whose pool
// failed onto other eligible pools, away from the component's other
// parts: each gets a new CNF instance there, the old one is retired, and
// the deployment is DEGRADED with FailingOver True until the new
// instances run. A part no pool can take stays, with FailingOver False
// saying why.
func (s *Service) failover(ctx context.Context, id string, failed []string) error {
	pools, _, err := s.readPools(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range pools {
		names[p.ID] = p.Name
	}
	var moved []string
	_, err = s.mutateIn(ctx, id, []string{PhaseActive, PhaseScaled, PhaseDegraded}, func(tx *sqlstore.ObjectTx, d *Deployment) error {
		if conditionTrue(*d, CondFailingOver) {
			return errUnchanged // a failover is under way
		}
		rules, err := placementRules(d.Spec)
		if err != nil {
			return err
		}
		now := s.now()
		reserved, err := tx.LockPlacement(ctx, now)
		if err != nil {
			return err
		}
		for i := range pools {
			pools[i].Free = pools[i].Free.Sub(reserved[pools[i].ID])
		}
		var stuck []string
		var holds []sqlstore.Reservation
		moved = moved[:0]
		for i := range d.Status.Components {
			cs := &d.Status.Components[i]
			if !slices.Contains(failed, cs.CnfInstanceID) {
				continue
			}
			r := rules
			r.Spread = 0
			r.Exclude = map[string]string{cs.ResourcePoolID: "the pool " + cs.Name + " failed on"}
			for _, o := range d.Status.Components {
				if o.Name == cs.Name && o.CnfInstanceID != cs.CnfInstanceID {
					r.Exclude[o.ResourcePoolID] = "runs another part of " + cs.Name
				}
			}
			per := perReplica(d, cs.Name)
			pl, err := placement.Place(placement.Request{
				Components:           []placement.Component{{Name: cs.Name, Replicas: cs.Replicas, PerReplica: per}},
				Rules:                r,
				UtilizationThreshold: s.opts.UtilizationThreshold,
			}, pools)
			if err != nil {
				stuck = append(stuck, fmt.Sprintf("component %s: %s", cs.Name, err.Error()))
				continue
			}
			a := pl.Assignments[0]
			oldPool := cs.ResourcePoolID
			moved = append(moved, fmt.Sprintf("component %s from resource pool %s to %s", cs.Name, poolLabel(*cs), names[a.PoolID]))
			d.Status.RetiredInstances = append(d.Status.RetiredInstances, cs.CnfInstanceID)
			cs.CnfInstanceID = uuid.NewSHA1(instanceNS, []byte(d.DeploymentID+"/failover/"+cs.CnfInstanceID)).String()
			cs.ResourcePoolID, cs.ResourcePoolName, cs.DeploymentManagerID = a.PoolID, names[a.PoolID], a.DeploymentManagerID
			cs.Phase, cs.ReadyReplicas, cs.LcmOpOccID = lcm.NotInstantiated, 0, ""
			for k := range pools {
				if pools[k].ID == a.PoolID {
					pools[k].Free = pools[k].Free.Sub(a.Requests)
				}
			}
			if d.Status.Placement != nil {
				for k := range d.Status.Placement.Assignments {
					pa := &d.Status.Placement.Assignments[k]
					if pa.Component == cs.Name && pa.ResourcePoolID == oldPool {
						pa.ResourcePoolID, pa.ResourcePoolName, pa.DeploymentManagerID, pa.Score = a.PoolID, names[a.PoolID], a.DeploymentManagerID, a.Score
						break
					}
				}
			}
			if d.ReserveCapacity != nil && *d.ReserveCapacity {
				holds = append(holds, sqlstore.Reservation{ID: uuid.NewString(), DeploymentID: d.DeploymentID, PoolID: a.PoolID, Requests: a.Requests,
					ExpiresAt: now.Add(s.opts.ReservationTTL), CreatedAt: now})
			}
		}
		if len(moved) == 0 {
			if len(stuck) > 0 {
				s.setCondition(d, Condition{Type: CondFailingOver, Status: "False", Reason: "NoEligiblePool", Message: truncate(strings.Join(stuck, "; "), 2000)})
			}
			return nil
		}
		if err := tx.HoldReservations(ctx, holds); err != nil {
			return err
		}
		s.setCondition(d, Condition{Type: CondFailingOver, Status: "True", Reason: "Replacing", Message: truncate(strings.Join(append(moved, stuck...), "; "), 2000)})
		s.setPhase(d, PhaseDegraded, "failing over "+strings.Join(moved, "; "))
		return syncReservations(ctx, tx, d)
	})
	if err == nil && len(moved) > 0 {
		s.logger.InfoContext(ctx, "deployment failing over", "deployment", id, "moves", strings.Join(moved, "; "))
	}
	return err
}
