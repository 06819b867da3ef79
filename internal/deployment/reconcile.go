package deployment

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Conditions the reconciler maintains.
const (
	// CondRolledBack is False while a FAILED deployment's CNF instances
	// are being removed and True once nothing of it is left.
	CondRolledBack = "RolledBack"
	// CondFailingOver is True while components of a failover deployment
	// are being re-placed away from a failed pool, False once they run
	// again or when no pool can take them.
	CondFailingOver = "FailingOver"
)

// Run drives every deployment towards what it asks for until ctx ends:
// level-triggered from the stored state, so a restart simply continues
// (the lifecycle manager resumes its own operations).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.ResyncInterval)
	defer t.Stop()
	for {
		s.reconcileAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

func (s *Service) reconcileAll(ctx context.Context) {
	ids, err := s.store.ExpireReservations(ctx, s.now())
	if err != nil && ctx.Err() == nil {
		s.logger.Warn("expiring reservations failed", "err", err)
	}
	for _, id := range ids {
		s.logger.Info("capacity reservations expired unused", "deployment", id)
		if _, err := s.mutate(ctx, id, "", func(tx *sqlstore.ObjectTx, d *Deployment) error { return syncReservations(ctx, tx, d) }); err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
			s.logger.Warn("recording expired reservations failed", "deployment", id, "err", err)
		}
	}
	all, err := s.All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Warn("reading deployments failed", "err", err)
		}
		return
	}
	for _, d := range all {
		if ctx.Err() != nil {
			return
		}
		if err := s.reconcileOne(ctx, d); err != nil && ctx.Err() == nil {
			s.logger.Warn("reconciling deployment", "deployment", d.DeploymentID, "phase", d.Status.Phase, "err", err)
		}
	}
}

// reconcileOne reconciles one deployment; a panic is its error, so that
// one deployment cannot stop the others (or the server).
func (s *Service) reconcileOne(ctx context.Context, d Deployment) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return s.reconcile(ctx, d)
}

func (s *Service) reconcile(ctx context.Context, d Deployment) error {
	if len(d.Status.RetiredInstances) > 0 && d.Status.Phase != PhaseDeleting {
		if err := s.retire(ctx, d); err != nil {
			return err
		}
	}
	if d.Status.GitOps != nil {
		return s.reconcileGit(ctx, d)
	}
	switch d.Status.Phase {
	case PhasePending, PhaseDeploying:
		return s.realize(ctx, d)
	case PhaseDegraded:
		if conditionTrue(d, CondFailingOver) {
			return s.realize(ctx, d)
		}
		return s.observe(ctx, d)
	case PhaseScaling:
		return s.scale(ctx, d)
	case PhaseActive, PhaseScaled:
		return s.observe(ctx, d)
	case PhaseFailed:
		if conditionTrue(d, CondRolledBack) {
			return nil
		}
		done, err := s.teardown(ctx, d)
		if err != nil || !done {
			return err
		}
		_, err = s.mutateIn(ctx, d.DeploymentID, []string{PhaseFailed}, func(_ *sqlstore.ObjectTx, d *Deployment) error {
			s.setCondition(d, Condition{Type: CondRolledBack, Status: "True", Reason: "InstancesRemoved", Message: "the CNF instances of the deployment were removed"})
			for i := range d.Status.Components {
				d.Status.Components[i].Phase, d.Status.Components[i].ReadyReplicas = lcm.NotInstantiated, 0
			}
			return nil
		})
		return err
	case PhaseDeleting:
		done, err := s.teardown(ctx, d)
		if err != nil || !done {
			return err
		}
		return s.remove(ctx, d.DeploymentID)
	}
	return nil
}

// reconcileGit drives a deployment delivered through git.
func (s *Service) reconcileGit(ctx context.Context, d Deployment) error {
	if s.gitops == nil {
		return ims.Errorf(ims.EUNAVAILABLE, "deliveries through git are not enabled on this server")
	}
	switch d.Status.Phase {
	case PhasePending, PhaseDeploying, PhaseScaling:
		return s.deliver(ctx, d)
	case PhaseActive, PhaseScaled, PhaseDegraded:
		return s.observeGit(ctx, d)
	case PhaseFailed:
		if conditionTrue(d, CondRolledBack) {
			return nil
		}
		done, err := s.withdraw(ctx, d)
		if err != nil || !done {
			return err
		}
		_, err = s.mutateIn(ctx, d.DeploymentID, []string{PhaseFailed}, func(_ *sqlstore.ObjectTx, d *Deployment) error {
			s.setCondition(d, Condition{Type: CondRolledBack, Status: "True", Reason: "PackageRemoved", Message: "the package of the deployment was removed from the repository"})
			return nil
		})
		return err
	case PhaseDeleting:
		done, err := s.withdraw(ctx, d)
		if err != nil || !done {
			return err
		}
		return s.remove(ctx, d.DeploymentID)
	}
	return nil
}

// mutateIn is mutate limited to deployments still in one of phases, so
// that a decision taken on an older read does not undo a newer request
// (a delete, a scale).
func (s *Service) mutateIn(ctx context.Context, id string, phases []string, fn func(tx *sqlstore.ObjectTx, d *Deployment) error) (Deployment, error) {
	return s.mutate(ctx, id, "", func(tx *sqlstore.ObjectTx, d *Deployment) error {
		if !slices.Contains(phases, d.Status.Phase) {
			return errUnchanged
		}
		return fn(tx, d)
	})
}

func conditionTrue(d Deployment, t string) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == t {
			return c.Status == "True"
		}
	}
	return false
}

func componentSpec(d Deployment, name string) Component {
	for _, c := range d.Components {
		if c.Name == name {
			return c
		}
	}
	return Component{Name: name}
}

func busy(inst lcm.Instance) bool {
	switch inst.Phase {
	case lcm.PhaseInstantiating, lcm.PhaseScaling, lcm.PhaseTerminating:
		return true
	}
	return false
}

// clientMistake tells errors that will not go away by retrying.
func clientMistake(err error) bool {
	switch ims.ErrorCode(err) {
	case ims.EINVALID, ims.EUNPROCESSABLE:
		return true
	}
	return false
}

// realize creates and instantiates the CNF instance of every placed
// component, and moves the deployment to ACTIVE once all run or to FAILED
// when one cannot.
func (s *Service) realize(ctx context.Context, d Deployment) error {
	comps := slices.Clone(d.Status.Components)
	running := true
	failure := ""
	for i := range comps {
		cs := &comps[i]
		spec := componentSpec(d, cs.Name)
		inst, err := s.lcm.GetInstance(ctx, cs.CnfInstanceID)
		if ims.ErrorCode(err) == ims.ENOTFOUND {
			_, err = s.lcm.CreateInstance(ctx, lcm.InstanceInput{
				ID: cs.CnfInstanceID, VnfInstanceName: d.Name + "-" + cs.Name, VnfInstanceDescription: "Component " + cs.Name + " of deployment " + d.Name,
				VnfdID: spec.VnfdID, PackageID: spec.PackageID, FlavourID: spec.FlavourID, Owner: "deployment/" + d.DeploymentID,
			})
			if err != nil && ims.ErrorCode(err) != ims.ECONFLICT {
				if clientMistake(err) {
					failure = fmt.Sprintf("component %s: %s", cs.Name, ims.ErrorMessage(err))
					break
				}
				return err
			}
			inst, err = s.lcm.GetInstance(ctx, cs.CnfInstanceID)
		}
		if err != nil {
			return err
		}
		switch {
		case inst.InstantiationState == lcm.Instantiated && !busy(inst):
			cs.Phase = lcm.Instantiated
			if info := inst.InstantiatedCnfInfo; info != nil {
				cs.ReadyReplicas = info.ReadyReplicas
			}
		case busy(inst):
			cs.Phase = inst.Phase
			running = false
			if op, ok := inst.Extensions["currentOperation"].(string); ok {
				cs.LcmOpOccID = op
			}
		case inst.Phase == lcm.PhaseFailed:
			failure = fmt.Sprintf("component %s on resource pool %s: %s", cs.Name, poolLabel(*cs), s.opError(ctx, cs.LcmOpOccID))
		default: // created, not yet instantiated
			replicas := cs.Replicas
			op, err := s.lcm.Instantiate(ctx, cs.CnfInstanceID, lcm.InstantiateInput{
				FlavourID: spec.FlavourID, DeploymentManagerID: cs.DeploymentManagerID, ResourcePoolID: cs.ResourcePoolID,
				Namespace: cs.Namespace, AdditionalParams: spec.AdditionalParams, Replicas: &replicas, Resources: spec.Resources,
			})
			switch {
			case err == nil:
				cs.LcmOpOccID, cs.Phase = op.ID, lcm.PhaseInstantiating
			case ims.ErrorCode(err) == ims.ECONFLICT:
			case clientMistake(err):
				failure = fmt.Sprintf("component %s on resource pool %s: %s", cs.Name, poolLabel(*cs), ims.ErrorMessage(err))
			default:
				return err
			}
			running = false
		}
		if failure != "" {
			break
		}
	}
	var failed *Deployment
	failingOver := d.Status.Phase == PhaseDegraded
	phases := []string{PhasePending, PhaseDeploying}
	if failingOver {
		phases = []string{PhaseDegraded}
	}
	_, err := s.mutateIn(ctx, d.DeploymentID, phases, func(tx *sqlstore.ObjectTx, cur *Deployment) error {
		mergeComponents(cur, comps)
		switch {
		case failure != "":
			if err := s.markFailed(ctx, tx, cur, failure); err != nil {
				return err
			}
			failed = cur
		case running:
			if failingOver {
				s.setCondition(cur, Condition{Type: CondFailingOver, Status: "False", Reason: "FailedOver", Message: "the re-placed components run"})
			}
			s.setPhase(cur, PhaseActive, "all components run")
			return s.release(ctx, tx, cur)
		case !failingOver:
			s.setPhase(cur, PhaseDeploying, "instantiating the CNF instances")
		}
		return nil
	})
	if err == nil && failed != nil {
		s.raiseFailed(ctx, *failed)
	}
	return err
}

func poolLabel(cs ComponentStatus) string {
	if cs.ResourcePoolName != "" {
		return cs.ResourcePoolName
	}
	return cs.ResourcePoolID
}

// mergeComponents takes the observed component statuses into cur, for
// the components cur still has with the same replica targets.
func mergeComponents(cur *Deployment, comps []ComponentStatus) {
	for i := range cur.Status.Components {
		c := &cur.Status.Components[i]
		for _, o := range comps {
			if o.CnfInstanceID == c.CnfInstanceID {
				replicas := c.Replicas
				*c = o
				c.Replicas = replicas
			}
		}
	}
}

// opError is the error of a failed lifecycle operation, as its problem
// details say.
func (s *Service) opError(ctx context.Context, opID string) string {
	if opID == "" {
		return "the CNF instance failed"
	}
	op, err := s.lcm.GetOp(ctx, opID)
	if err != nil || op.Error == nil {
		return "the CNF instance failed"
	}
	return op.Error.Detail
}

// markFailed records a failure; the reconciler then removes what was
// created, and the held capacity is released at once.
func (s *Service) markFailed(ctx context.Context, tx *sqlstore.ObjectTx, d *Deployment, detail string) error {
	s.setPhase(d, PhaseFailed, "failed; removing what was created")
	d.Status.Error = &lcm.Problem{Type: "about:blank", Title: "Deployment failed", Status: 422, Detail: truncate(detail, 2000)}
	s.setCondition(d, Condition{Type: CondRolledBack, Status: "False", Reason: "RollingBack", Message: "removing the CNF instances of the deployment"})
	return s.release(ctx, tx, d)
}

// release ends the deployment's held reservations: its workloads run (and
// their requests count in the pools) or it failed.
func (s *Service) release(ctx context.Context, tx *sqlstore.ObjectTx, d *Deployment) error {
	if _, err := tx.ReleaseReservations(ctx, d.DeploymentID, sqlstore.ReservationReleased); err != nil {
		return err
	}
	return syncReservations(ctx, tx, d)
}

func (s *Service) raiseFailed(ctx context.Context, d Deployment) {
	s.logger.Warn("deployment failed", "deployment", d.DeploymentID, "name", d.Name, "err", d.Status.Error.Detail)
	if s.alarms == nil {
		return
	}
	def := alarms.Definition(alarms.DeploymentFailed)
	_, err := s.alarms.Raise(ctx, alarms.Condition{
		Fingerprint: "deployment-failed/" + d.DeploymentID,
		Definition:  def,
		Severity:    def.Severity,
		Extensions:  map[string]any{"alarmName": def.AlarmName, "deploymentId": d.DeploymentID, "deploymentName": d.Name, "error": d.Status.Error.Detail},
	})
	if err != nil {
		s.logger.Warn("raising the deployment-failed alarm", "err", err)
	}
}

// scale brings every CNF instance to its component's new replica count.
func (s *Service) scale(ctx context.Context, d Deployment) error {
	comps := slices.Clone(d.Status.Components)
	done := true
	var failures []string
	for i := range comps {
		cs := &comps[i]
		inst, err := s.lcm.GetInstance(ctx, cs.CnfInstanceID)
		if err != nil {
			return err
		}
		if busy(inst) {
			done = false
			continue
		}
		info := inst.InstantiatedCnfInfo
		if info == nil || inst.InstantiationState != lcm.Instantiated {
			failures = append(failures, fmt.Sprintf("component %s on resource pool %s is %s", cs.Name, poolLabel(*cs), inst.Phase))
			continue
		}
		if info.TargetReplicas != nil && *info.TargetReplicas == cs.Replicas {
			cs.ReadyReplicas = info.ReadyReplicas
			continue
		}
		if cs.LcmOpOccID != "" {
			if op, err := s.lcm.GetOp(ctx, cs.LcmOpOccID); err == nil && op.Operation == lcm.OpScale && op.OperationState == lcm.StateFailed {
				if t, ok := op.OperationParams["targetReplicas"].(float64); ok && int(t) == cs.Replicas {
					// The lifecycle manager put the old count back.
					failures = append(failures, fmt.Sprintf("scaling component %s on resource pool %s to %d replicas failed: %s", cs.Name, poolLabel(*cs), cs.Replicas, s.opError(ctx, op.ID)))
					if info.TargetReplicas != nil {
						cs.Replicas = *info.TargetReplicas
					}
					cs.ReadyReplicas = info.ReadyReplicas
					continue
				}
			}
		}
		op, err := s.lcm.ScaleTo(ctx, cs.CnfInstanceID, cs.Replicas)
		switch {
		case err == nil:
			cs.LcmOpOccID, cs.Phase = op.ID, lcm.PhaseScaling
		case ims.ErrorCode(err) == ims.ECONFLICT:
		default:
			return err
		}
		done = false
	}
	_, err := s.mutateIn(ctx, d.DeploymentID, []string{PhaseScaling}, func(tx *sqlstore.ObjectTx, cur *Deployment) error {
		for i := range cur.Status.Components {
			c := &cur.Status.Components[i]
			for _, o := range comps {
				if o.CnfInstanceID == c.CnfInstanceID {
					*c = o
				}
			}
		}
		if !done {
			return nil
		}
		// The spec follows what the instances reached.
		for i := range cur.Components {
			n := 0
			for _, c := range cur.Status.Components {
				if c.Name == cur.Components[i].Name {
					n += c.Replicas
				}
			}
			cur.Components[i].Replicas = n
		}
		if len(failures) > 0 {
			s.setPhase(cur, PhaseDegraded, strings.Join(failures, "; "))
		} else {
			s.setPhase(cur, PhaseScaled, "scaled")
		}
		return s.release(ctx, tx, cur)
	})
	return err
}

// observe keeps a running deployment's status current: DEGRADED while a
// component is below its replicas or its pool is unhealthy, back to
// ACTIVE when all is well again.
func (s *Service) observe(ctx context.Context, d Deployment) error {
	comps := slices.Clone(d.Status.Components)
	var problems, failedOn []string
	for i := range comps {
		cs := &comps[i]
		inst, err := s.lcm.GetInstance(ctx, cs.CnfInstanceID)
		if err != nil {
			if ims.ErrorCode(err) == ims.ENOTFOUND {
				problems = append(problems, fmt.Sprintf("component %s: its CNF instance is gone", cs.Name))
				cs.Phase, cs.ReadyReplicas = "MISSING", 0
				continue
			}
			return err
		}
		inst = s.lcm.RefreshStatus(ctx, inst)
		cs.Phase = inst.Phase
		if inst.InstantiationState != lcm.Instantiated || inst.InstantiatedCnfInfo == nil {
			problems = append(problems, fmt.Sprintf("component %s on resource pool %s is %s", cs.Name, poolLabel(*cs), inst.Phase))
			cs.ReadyReplicas = 0
		} else {
			cs.ReadyReplicas = inst.InstantiatedCnfInfo.ReadyReplicas
			if cs.ReadyReplicas < cs.Replicas {
				problems = append(problems, fmt.Sprintf("component %s on resource pool %s has %d of %d replicas ready", cs.Name, poolLabel(*cs), cs.ReadyReplicas, cs.Replicas))
			}
		}
		if p := s.poolProblem(ctx, cs.ResourcePoolID); p != "" {
			problems = append(problems, fmt.Sprintf("component %s: resource pool %s %s", cs.Name, poolLabel(*cs), p))
			failedOn = append(failedOn, cs.CnfInstanceID)
		}
	}
	_, err := s.mutateIn(ctx, d.DeploymentID, []string{PhaseActive, PhaseScaled, PhaseDegraded}, func(_ *sqlstore.ObjectTx, cur *Deployment) error {
		mergeComponents(cur, comps)
		switch {
		case len(problems) > 0:
			s.setPhase(cur, PhaseDegraded, strings.Join(problems, "; "))
		case cur.Status.Phase == PhaseDegraded:
			s.setPhase(cur, PhaseActive, "all components run")
		}
		return nil
	})
	if err != nil || !d.Failover || len(failedOn) == 0 {
		return err
	}
	return s.failover(ctx, d.DeploymentID, failedOn)
}

// poolProblem says what is wrong with a pool, or "".
func (s *Service) poolProblem(ctx context.Context, poolID string) string {
	doc, err := s.store.Get(ctx, inventory.ResourcePoolSchema, poolID)
	if err != nil {
		if ims.ErrorCode(err) == ims.ENOTFOUND {
			return "is gone from the inventory"
		}
		return ""
	}
	var rp ims.ResourcePool
	if json.Unmarshal(doc, &rp) != nil {
		return ""
	}
	if h, ok := rp.Extensions["healthy"].(bool); ok && !h {
		return "is unhealthy"
	}
	return ""
}

// teardown terminates and deletes the deployment's CNF instances; it
// reports whether none is left.
func (s *Service) teardown(ctx context.Context, d Deployment) (bool, error) {
	ids := slices.Clone(d.Status.RetiredInstances)
	for _, cs := range d.Status.Components {
		ids = append(ids, cs.CnfInstanceID)
	}
	done := true
	for _, id := range ids {
		gone, err := s.removeInstance(ctx, id)
		if err != nil {
			return false, err
		}
		done = done && gone
	}
	return done, nil
}

// removeInstance takes one step towards a CNF instance being gone:
// terminate it when it is instantiated, delete it when it is not; it
// reports whether it is gone.
func (s *Service) removeInstance(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return true, nil
	}
	inst, err := s.lcm.GetInstance(ctx, id)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	switch {
	case busy(inst):
	case inst.InstantiationState == lcm.Instantiated:
		if _, err := s.lcm.Terminate(ctx, id, lcm.TerminateInput{TerminationType: "GRACEFUL"}); err != nil && ims.ErrorCode(err) != ims.ECONFLICT {
			return false, err
		}
	default:
		if err := s.lcm.DeleteInstance(ctx, id); err != nil && ims.ErrorCode(err) != ims.ECONFLICT && ims.ErrorCode(err) != ims.ENOTFOUND {
			return false, err
		}
	}
	return false, nil
}

// retire removes the CNF instances a failover replaced and forgets those
// that are gone.
func (s *Service) retire(ctx context.Context, d Deployment) error {
	var gone []string
	for _, id := range d.Status.RetiredInstances {
		ok, err := s.removeInstance(ctx, id)
		if err != nil {
			s.logger.Warn("removing a replaced CNF instance", "deployment", d.DeploymentID, "instance", id, "err", err)
			continue
		}
		if ok {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	_, err := s.mutate(ctx, d.DeploymentID, "", func(_ *sqlstore.ObjectTx, cur *Deployment) error {
		cur.Status.RetiredInstances = slices.DeleteFunc(cur.Status.RetiredInstances, func(id string) bool { return slices.Contains(gone, id) })
		return nil
	})
	return err
}

// remove deletes a DELETING deployment whose instances are gone, with its
// reservations.
func (s *Service) remove(ctx context.Context, id string) error {
	removed := false
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		d, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.Status.Phase != PhaseDeleting {
			return nil
		}
		if err := tx.DeleteReservations(ctx, id); err != nil {
			return err
		}
		removed = true
		return tx.Delete(ctx, Schema, id)
	})
	if err == nil && removed {
		s.changed()
		s.logger.Info("deployment deleted", "deployment", id)
	}
	return err
}
