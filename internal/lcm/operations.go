package lcm

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
)

// busy reports whether an operation is under way on inst.
func busy(inst Instance) bool {
	switch inst.Phase {
	case PhaseInstantiating, PhaseScaling, PhaseTerminating:
		return true
	}
	return false
}

// InstantiateInput deploys an instance.
type InstantiateInput struct {
	FlavourID           string
	DeploymentManagerID string
	ResourcePoolID      string
	Namespace           string
	AdditionalParams    map[string]any
	// Replicas, when set, is the replica count of every workload of the
	// package, instead of the flavour's and the scaling aspects'.
	Replicas *int
	// Resources, when set, replace the flavour's container requests.
	Resources *Resources
}

var namespacePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Instantiate starts deploying an instance; the operation completes
// asynchronously.
func (s *Service) Instantiate(ctx context.Context, id string, in InstantiateInput) (OpOcc, error) {
	inst, err := s.GetInstance(ctx, id)
	if err != nil {
		return OpOcc{}, err
	}
	pkg, err := s.GetPackage(ctx, inst.PackageID)
	if err != nil {
		return OpOcc{}, err
	}
	if in.FlavourID == "" {
		in.FlavourID = inst.FlavourID
	}
	if flavour(pkg, in.FlavourID) == nil {
		return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "flavourId: package %s has no flavour %q", pkg.PackageID, in.FlavourID)
	}
	if in.DeploymentManagerID == "" {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "deploymentManagerId is required")
	}
	dmDoc, err := s.store.Get(ctx, inventory.DeploymentManagerSchema, in.DeploymentManagerID)
	if err != nil {
		return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "deploymentManagerId: no deployment manager %q", in.DeploymentManagerID)
	}
	dm, err := decode[ims.DeploymentManager](dmDoc)
	if err != nil {
		return OpOcc{}, err
	}
	if dm.Extensions["provider"] != "kubernetes" {
		return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "deploymentManagerId: %q is not a Kubernetes cluster", in.DeploymentManagerID)
	}
	poolName := ""
	if in.ResourcePoolID != "" {
		poolDoc, err := s.store.Get(ctx, inventory.ResourcePoolSchema, in.ResourcePoolID)
		if err != nil {
			return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "resourcePoolId: no resource pool %q", in.ResourcePoolID)
		}
		pool, err := decode[ims.ResourcePool](poolDoc)
		if err != nil {
			return OpOcc{}, err
		}
		if pool.Extensions["deploymentManagerId"] != in.DeploymentManagerID {
			return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "resourcePoolId: pool %q is not part of deployment manager %q", in.ResourcePoolID, in.DeploymentManagerID)
		}
		poolName = labelOf(pool)
	}
	if in.Namespace == "" {
		in.Namespace = "cnf-" + id[:8]
	}
	if !namespacePattern.MatchString(in.Namespace) {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "namespace: %q is not a valid Kubernetes namespace name", in.Namespace)
	}
	params := map[string]any{"flavourId": in.FlavourID, "deploymentManagerId": in.DeploymentManagerID, "resourcePoolId": in.ResourcePoolID, "namespace": in.Namespace}
	if len(in.AdditionalParams) > 0 {
		params["additionalParams"] = in.AdditionalParams
	}
	if in.Replicas != nil {
		if *in.Replicas < 0 {
			return OpOcc{}, ims.Errorf(ims.EINVALID, "replicas: must not be negative")
		}
		params["replicas"] = *in.Replicas
	}
	if in.Resources != nil {
		params["resources"] = in.Resources
	}
	return s.startOp(ctx, id, OpInstantiate, params, func(inst *Instance) error {
		if inst.InstantiationState != NotInstantiated {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q is %s already", id, inst.InstantiationState)
		}
		levels := make([]ScaleStatus, 0, len(pkg.ScalingAspects))
		for _, a := range pkg.ScalingAspects {
			levels = append(levels, ScaleStatus{AspectID: a.AspectID})
		}
		inst.FlavourID = in.FlavourID
		inst.Phase = PhaseInstantiating
		inst.InstantiatedCnfInfo = &InstantiatedInfo{FlavourID: in.FlavourID, DeploymentManagerID: in.DeploymentManagerID,
			ResourcePoolID: in.ResourcePoolID, ResourcePoolName: poolName, Namespace: in.Namespace, ScaleStatus: levels, Resources: []ResourceRef{}, AdditionalParams: in.AdditionalParams,
			TargetReplicas: in.Replicas, ContainerResources: in.Resources}
		return nil
	})
}

// ScaleInput scales one aspect.
type ScaleInput struct {
	Type          string // SCALE_OUT or SCALE_IN
	AspectID      string
	NumberOfSteps int
}

// Scale starts scaling an aspect of an instantiated instance.
func (s *Service) Scale(ctx context.Context, id string, in ScaleInput) (OpOcc, error) {
	if in.Type != "SCALE_OUT" && in.Type != "SCALE_IN" {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "type: must be SCALE_OUT or SCALE_IN")
	}
	if in.NumberOfSteps == 0 {
		in.NumberOfSteps = 1
	}
	if in.NumberOfSteps < 0 {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "numberOfSteps: must be positive")
	}
	inst, err := s.GetInstance(ctx, id)
	if err != nil {
		return OpOcc{}, err
	}
	pkg, err := s.GetPackage(ctx, inst.PackageID)
	if err != nil {
		return OpOcc{}, err
	}
	var aspect *ScalingAspect
	for i := range pkg.ScalingAspects {
		if pkg.ScalingAspects[i].AspectID == in.AspectID {
			aspect = &pkg.ScalingAspects[i]
		}
	}
	if aspect == nil {
		return OpOcc{}, ims.Errorf(ims.EUNPROCESSABLE, "aspectId: package %s has no scaling aspect %q", pkg.PackageID, in.AspectID)
	}
	params := map[string]any{"type": in.Type, "aspectId": in.AspectID, "numberOfSteps": in.NumberOfSteps}
	return s.startOp(ctx, id, OpScale, params, func(inst *Instance) error {
		if inst.InstantiationState != Instantiated || inst.InstantiatedCnfInfo == nil {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q is not instantiated", id)
		}
		cur := level(inst, in.AspectID)
		next := cur + in.NumberOfSteps
		if in.Type == "SCALE_IN" {
			next = cur - in.NumberOfSteps
		}
		if next < 0 || next > aspect.MaxScaleLevel {
			return ims.Errorf(ims.EUNPROCESSABLE, "scaling %s from level %d by %d steps leaves [0, %d]", in.AspectID, cur, in.NumberOfSteps, aspect.MaxScaleLevel)
		}
		params["fromLevel"], params["toLevel"] = cur, next
		inst.Phase = PhaseScaling
		return nil
	})
}

// ScaleTo starts setting the replica count of every workload of an
// instantiated instance (a SCALE operation with targetReplicas).
func (s *Service) ScaleTo(ctx context.Context, id string, replicas int) (OpOcc, error) {
	if replicas < 0 {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "replicas: must not be negative")
	}
	params := map[string]any{"type": "SCALE_TO", "targetReplicas": replicas}
	return s.startOp(ctx, id, OpScale, params, func(inst *Instance) error {
		if inst.InstantiationState != Instantiated || inst.InstantiatedCnfInfo == nil {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q is not instantiated", id)
		}
		if t := inst.InstantiatedCnfInfo.TargetReplicas; t != nil {
			params["fromReplicas"] = *t
		}
		inst.Phase = PhaseScaling
		return nil
	})
}

func level(inst *Instance, aspectID string) int {
	if inst.InstantiatedCnfInfo == nil {
		return 0
	}
	for _, st := range inst.InstantiatedCnfInfo.ScaleStatus {
		if st.AspectID == aspectID {
			return st.ScaleLevel
		}
	}
	return 0
}

// TerminateInput terminates an instance.
type TerminateInput struct {
	TerminationType            string // FORCEFUL or GRACEFUL
	GracefulTerminationTimeout *int
}

// Terminate starts removing everything an instance deployed.
func (s *Service) Terminate(ctx context.Context, id string, in TerminateInput) (OpOcc, error) {
	if in.TerminationType != "FORCEFUL" && in.TerminationType != "GRACEFUL" {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "terminationType: must be FORCEFUL or GRACEFUL")
	}
	if in.GracefulTerminationTimeout != nil && *in.GracefulTerminationTimeout < 0 {
		return OpOcc{}, ims.Errorf(ims.EINVALID, "gracefulTerminationTimeout: must not be negative")
	}
	params := map[string]any{"terminationType": in.TerminationType}
	if in.GracefulTerminationTimeout != nil {
		params["gracefulTerminationTimeout"] = *in.GracefulTerminationTimeout
	}
	return s.startOp(ctx, id, OpTerminate, params, func(inst *Instance) error {
		if inst.InstantiationState != Instantiated {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q is not instantiated", id)
		}
		inst.Phase = PhaseTerminating
		return nil
	})
}

// startOp records a STARTING operation and the instance change prepare
// makes, in one transaction that refuses a second concurrent operation,
// then runs the operation in the background.
func (s *Service) startOp(ctx context.Context, id, operation string, params map[string]any, prepare func(inst *Instance) error) (OpOcc, error) {
	now := s.timestamp()
	op := OpOcc{ID: uuid.NewString(), Operation: operation, OperationState: StateStarting, StartTime: now, StateEnteredTime: now, CnfInstanceID: id, OperationParams: params}
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		doc, err := tx.Get(ctx, InstanceSchema, id)
		if err != nil {
			return err
		}
		inst, err := decode[Instance](doc)
		if err != nil {
			return err
		}
		if busy(inst) {
			return ims.Errorf(ims.ECONFLICT, "CNF instance %q has an operation in progress (%s)", id, inst.Phase)
		}
		if err := prepare(&inst); err != nil {
			return err
		}
		if inst.Extensions == nil {
			inst.Extensions = map[string]any{}
		}
		inst.Extensions["currentOperation"] = op.ID
		instDoc, err := encode(inst)
		if err != nil {
			return err
		}
		opDoc, err := encode(op)
		if err != nil {
			return err
		}
		if err := tx.Put(ctx, InstanceSchema, id, instDoc); err != nil {
			return err
		}
		return tx.Put(ctx, OpSchema, op.ID, opDoc)
	})
	if err != nil {
		return OpOcc{}, err
	}
	s.wake()
	s.launch(op.ID)
	return op, nil
}

// Run resumes operations a previous process left unfinished, then keeps
// running new ones until ctx ends; it returns after they have stopped.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	f := query.Filter{Terms: []query.Term{{Op: query.In, Path: []string{"operationState"}, Values: []string{StateStarting, StateProcessing}}}}
	after := ""
	for {
		docs, last, more, err := s.store.List(ctx, OpSchema, f, 100, after)
		if err != nil {
			s.logger.Error("reading unfinished operations failed", "err", err)
			break
		}
		for _, d := range docs {
			op, err := decode[OpOcc](d)
			if err == nil {
				s.logger.Info("resuming an operation interrupted by a restart", "op", op.ID, "operation", op.Operation, "instance", op.CnfInstanceID)
				s.launch(op.ID)
			}
		}
		if !more {
			break
		}
		after = last
	}
	<-ctx.Done()
	s.wg.Wait()
}

// launch runs an operation in the background once Run has started; before
// that, Run picks it up from the store.
func (s *Service) launch(opID string) {
	s.mu.Lock()
	ctx := s.runCtx
	s.mu.Unlock()
	if ctx == nil {
		return
	}
	s.wg.Go(func() { s.execute(ctx, opID) })
}

// execute performs one operation. Every step is idempotent (server-side
// apply, delete of what is labelled with the instance), so an operation
// interrupted by a restart is simply executed again.
func (s *Service) execute(ctx context.Context, opID string) {
	logger := s.logger.With("op", opID)
	op, err := s.GetOp(ctx, opID)
	if err != nil {
		logger.Error("operation vanished", "err", err)
		return
	}
	ctx, span := tracing.Start(ctx, "lcm."+strings.ToLower(string(op.Operation)),
		attribute.String("o2ims.lcm_op_occ", opID), attribute.String("o2ims.cnf_instance", op.CnfInstanceID))
	defer span.End()
	if err := s.setState(ctx, opID, StateProcessing, nil); err != nil {
		logger.Error("marking operation processing", "err", err)
		return
	}
	var runErr error
	switch op.Operation {
	case OpInstantiate:
		runErr = s.doInstantiate(ctx, op)
	case OpScale:
		runErr = s.doScale(ctx, op)
	case OpTerminate:
		runErr = s.doTerminate(ctx, op)
	default:
		runErr = fmt.Errorf("unknown operation %q", op.Operation)
	}
	if ctx.Err() != nil {
		// Shutting down: leave it PROCESSING; the next start resumes it.
		logger.Info("operation interrupted by shutdown; it resumes on the next start")
		return
	}
	if runErr != nil {
		logger.Warn("operation failed", "operation", op.Operation, "instance", op.CnfInstanceID, "err", runErr)
		s.fail(ctx, op, runErr)
		return
	}
	logger.Info("operation completed", "operation", op.Operation, "instance", op.CnfInstanceID)
}

func (s *Service) setState(ctx context.Context, opID, state string, problem *Problem) error {
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		doc, err := tx.Get(ctx, OpSchema, opID)
		if err != nil {
			return err
		}
		op, err := decode[OpOcc](doc)
		if err != nil {
			return err
		}
		if op.OperationState == state {
			return nil
		}
		op.OperationState, op.StateEnteredTime, op.Error = state, s.timestamp(), problem
		b, err := encode(op)
		if err != nil {
			return err
		}
		return tx.Put(ctx, OpSchema, opID, b)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// finish completes an operation and applies its result to the instance,
// in one transaction.
func (s *Service) finish(ctx context.Context, op OpOcc, state string, problem *Problem, update func(inst *Instance)) error {
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		doc, err := tx.Get(ctx, InstanceSchema, op.CnfInstanceID)
		if err != nil {
			return err
		}
		inst, err := decode[Instance](doc)
		if err != nil {
			return err
		}
		update(&inst)
		delete(inst.Extensions, "currentOperation")
		if len(inst.Extensions) == 0 {
			inst.Extensions = nil
		}
		ib, err := encode(inst)
		if err != nil {
			return err
		}
		if err := tx.Put(ctx, InstanceSchema, inst.CnfInstanceID, ib); err != nil {
			return err
		}
		op.OperationState, op.StateEnteredTime, op.Error = state, s.timestamp(), problem
		ob, err := encode(op)
		if err != nil {
			return err
		}
		return tx.Put(ctx, OpSchema, op.ID, ob)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// fail records a failed operation, leaves the instance as the rollback
// left it, and raises an alarm.
func (s *Service) fail(ctx context.Context, op OpOcc, cause error) {
	status := 422
	if ims.ErrorCode(cause) == ims.EINTERNAL || ims.ErrorCode(cause) == ims.EUNAVAILABLE {
		status = 500
	}
	problem := &Problem{Type: "about:blank", Title: "Operation failed", Status: status, Detail: truncate(errorDetail(cause), 2000)}
	err := s.finish(ctx, op, StateFailed, problem, func(inst *Instance) {
		switch op.Operation {
		case OpInstantiate:
			// Rolled back: nothing of it is left in the cluster.
			inst.InstantiationState, inst.Phase = NotInstantiated, PhaseFailed
			inst.InstantiatedCnfInfo = nil
		case OpScale:
			inst.Phase = Instantiated
		case OpTerminate:
			inst.Phase = PhaseFailed
		}
	})
	if err != nil {
		s.logger.Error("recording the failed operation", "op", op.ID, "err", err)
	}
	if s.alarms != nil {
		d := alarms.Definition(alarms.CnfOperationFailed)
		_, aerr := s.alarms.Raise(ctx, alarms.Condition{
			Fingerprint: "lcm-op-failed/" + op.ID,
			Definition:  d,
			Severity:    d.Severity,
			Extensions:  map[string]any{"alarmName": d.AlarmName, "lcmOpOccId": op.ID, "cnfInstanceId": op.CnfInstanceID, "operation": op.Operation, "error": problem.Detail},
		})
		if aerr != nil {
			s.logger.Warn("raising the operation-failed alarm", "err", aerr)
		}
	}
}

func errorDetail(err error) string {
	var e *ims.Error
	if errors.As(err, &e) && e.Code != ims.EINTERNAL {
		return e.Message
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// renderParams derives the render of an instance at the given scale levels.
func renderParams(inst Instance, pkg Package, levels map[string]int, poolLabel string) cnf.RenderParams {
	info := inst.InstantiatedCnfInfo
	fl := flavour(pkg, info.FlavourID)
	// A Helm release is named after the instance, and the workload names
	// recorded from a render with the placeholder release name map to it.
	// A kpt package keeps the names its setters give (instances are apart
	// by namespace and the instance label).
	release := "cnf-" + inst.CnfInstanceID[:8]
	actual := func(name string) string { return strings.ReplaceAll(name, cnf.InspectRelease, release) }
	if pkg.ContentType == string(cnf.KindKpt) {
		release = ""
		actual = func(name string) string { return name }
	}
	replicas := map[string]int{}
	if fl != nil && fl.Replicas != nil {
		for _, w := range pkg.Workloads {
			replicas[actual(w.Name)] = *fl.Replicas
		}
	}
	for _, a := range pkg.ScalingAspects {
		base, ok := replicas[actual(a.Workload)]
		if !ok {
			base = 1
		}
		replicas[actual(a.Workload)] = base + levels[a.AspectID]*a.StepDelta
	}
	if info.TargetReplicas != nil {
		for _, w := range pkg.Workloads {
			replicas[actual(w.Name)] = *info.TargetReplicas
		}
	}
	p := cnf.RenderParams{
		InstanceID: inst.CnfInstanceID, ReleaseName: release, Namespace: info.Namespace,
		Pool: poolLabel, Replicas: replicas, Values: info.AdditionalParams,
	}
	if fl != nil && fl.Resources != nil {
		p.Resources = &cnf.Resources{CPU: fl.Resources.CPU, Memory: fl.Resources.Memory}
	}
	if r := info.ContainerResources; r != nil {
		p.Resources = &cnf.Resources{CPU: r.CPU, Memory: r.Memory}
	}
	return p
}

func (s *Service) poolLabel(ctx context.Context, poolID string) (string, error) {
	if poolID == "" {
		return "", nil
	}
	doc, err := s.store.Get(ctx, inventory.ResourcePoolSchema, poolID)
	if err != nil {
		return "", ims.Errorf(ims.EUNPROCESSABLE, "resource pool %q is gone", poolID)
	}
	pool, err := decode[ims.ResourcePool](doc)
	if err != nil {
		return "", err
	}
	return labelOf(pool), nil
}

// labelOf is the node label value that selects a pool's nodes.
func labelOf(pool ims.ResourcePool) string {
	if l, ok := pool.Extensions["poolLabel"].(string); ok && l != "" {
		return l
	}
	return pool.Name
}

// deploy renders and applies an instance at the given levels and waits
// for its workloads; it returns what was applied and their status.
func (s *Service) deploy(ctx context.Context, inst Instance, levels map[string]int) ([]cnf.ObjectRef, cnf.WorkloadStatus, error) {
	pkg, err := s.GetPackage(ctx, inst.PackageID)
	if err != nil {
		return nil, cnf.WorkloadStatus{}, err
	}
	content, _, err := s.store.PackageContent(ctx, pkg.PackageID)
	if err != nil {
		return nil, cnf.WorkloadStatus{}, err
	}
	label := inst.InstantiatedCnfInfo.ResourcePoolName
	if label == "" {
		if label, err = s.poolLabel(ctx, inst.InstantiatedCnfInfo.ResourcePoolID); err != nil {
			return nil, cnf.WorkloadStatus{}, err
		}
	}
	objs, err := cnf.Render(ctx, cnf.Kind(pkg.ContentType), content, renderParams(inst, pkg, levels, label))
	if err != nil {
		return nil, cnf.WorkloadStatus{}, err
	}
	cluster, err := s.cluster(ctx, inst.InstantiatedCnfInfo.DeploymentManagerID)
	if err != nil {
		return nil, cnf.WorkloadStatus{}, err
	}
	refs, err := cluster.Apply(ctx, inst.InstantiatedCnfInfo.Namespace, objs)
	if err != nil {
		return refs, cnf.WorkloadStatus{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.OperationTimeout)
	defer cancel()
	if err := cluster.WaitReady(wctx, refs); err != nil {
		if ctx.Err() != nil {
			return refs, cnf.WorkloadStatus{}, ctx.Err()
		}
		return refs, cnf.WorkloadStatus{}, fmt.Errorf("workloads not ready within %s: %w", s.opts.OperationTimeout, err)
	}
	st, err := cluster.Status(ctx, refs)
	return refs, st, err
}

func (s *Service) cluster(ctx context.Context, dmID string) (*cnf.Cluster, error) {
	cfg, err := s.clusters.RESTConfig(ctx, dmID)
	if err != nil {
		return nil, err
	}
	return cnf.NewCluster(cfg, s.logger)
}

func refsOf(refs []cnf.ObjectRef) []ResourceRef {
	out := make([]ResourceRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, ResourceRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace})
	}
	return out
}

func objectRefs(refs []ResourceRef) []cnf.ObjectRef {
	out := make([]cnf.ObjectRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, cnf.ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace})
	}
	return out
}

func levelsOf(inst Instance) map[string]int {
	m := map[string]int{}
	if inst.InstantiatedCnfInfo != nil {
		for _, st := range inst.InstantiatedCnfInfo.ScaleStatus {
			m[st.AspectID] = st.ScaleLevel
		}
	}
	return m
}

func (s *Service) doInstantiate(ctx context.Context, op OpOcc) error {
	inst, err := s.GetInstance(ctx, op.CnfInstanceID)
	if err != nil {
		return err
	}
	refs, st, err := s.deploy(ctx, inst, levelsOf(inst))
	if err != nil {
		if ctx.Err() == nil {
			s.rollback(ctx, inst, refs)
		}
		return err
	}
	return s.finish(ctx, op, StateCompleted, nil, func(i *Instance) {
		i.InstantiationState, i.Phase = Instantiated, Instantiated
		i.InstantiatedCnfInfo.Resources = refsOf(refs)
		i.InstantiatedCnfInfo.Replicas, i.InstantiatedCnfInfo.ReadyReplicas = st.Replicas, st.ReadyReplicas
	})
}

// rollback removes what a failed instantiation created.
func (s *Service) rollback(ctx context.Context, inst Instance, refs []cnf.ObjectRef) {
	cluster, err := s.cluster(ctx, inst.InstantiatedCnfInfo.DeploymentManagerID)
	if err != nil {
		s.logger.Warn("rollback: no cluster", "err", err)
		return
	}
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := cluster.Delete(dctx, inst.CnfInstanceID, inst.InstantiatedCnfInfo.Namespace, refs, nil); err != nil {
		s.logger.Warn("rollback incomplete", "instance", inst.CnfInstanceID, "err", err)
	}
}

func (s *Service) doScale(ctx context.Context, op OpOcc) error {
	inst, err := s.GetInstance(ctx, op.CnfInstanceID)
	if err != nil {
		return err
	}
	if t, ok := op.OperationParams["targetReplicas"].(float64); ok {
		return s.doScaleTo(ctx, op, inst, int(t))
	}
	aspect, _ := op.OperationParams["aspectId"].(string)
	to, _ := op.OperationParams["toLevel"].(float64)
	from, _ := op.OperationParams["fromLevel"].(float64)
	levels := levelsOf(inst)
	levels[aspect] = int(to)
	refs, st, err := s.deploy(ctx, inst, levels)
	if err != nil {
		if ctx.Err() == nil {
			// Put the previous replica count back.
			levels[aspect] = int(from)
			if _, _, rerr := s.deploy(ctx, inst, levels); rerr != nil {
				s.logger.Warn("scale rollback failed", "instance", inst.CnfInstanceID, "err", rerr)
			}
		}
		return err
	}
	return s.finish(ctx, op, StateCompleted, nil, func(i *Instance) {
		i.Phase = Instantiated
		for k := range i.InstantiatedCnfInfo.ScaleStatus {
			if i.InstantiatedCnfInfo.ScaleStatus[k].AspectID == aspect {
				i.InstantiatedCnfInfo.ScaleStatus[k].ScaleLevel = int(to)
			}
		}
		i.InstantiatedCnfInfo.Resources = refsOf(refs)
		i.InstantiatedCnfInfo.Replicas, i.InstantiatedCnfInfo.ReadyReplicas = st.Replicas, st.ReadyReplicas
	})
}

// doScaleTo re-renders the instance with a new replica count, putting the
// previous one back when the workloads do not become ready.
func (s *Service) doScaleTo(ctx context.Context, op OpOcc, inst Instance, target int) error {
	prev := inst.InstantiatedCnfInfo.TargetReplicas
	inst.InstantiatedCnfInfo.TargetReplicas = &target
	refs, st, err := s.deploy(ctx, inst, levelsOf(inst))
	if err != nil {
		if ctx.Err() == nil {
			inst.InstantiatedCnfInfo.TargetReplicas = prev
			if _, _, rerr := s.deploy(ctx, inst, levelsOf(inst)); rerr != nil {
				s.logger.Warn("scale rollback failed", "instance", inst.CnfInstanceID, "err", rerr)
			}
		}
		return err
	}
	return s.finish(ctx, op, StateCompleted, nil, func(i *Instance) {
		i.Phase = Instantiated
		i.InstantiatedCnfInfo.TargetReplicas = &target
		i.InstantiatedCnfInfo.Resources = refsOf(refs)
		i.InstantiatedCnfInfo.Replicas, i.InstantiatedCnfInfo.ReadyReplicas = st.Replicas, st.ReadyReplicas
	})
}

func (s *Service) doTerminate(ctx context.Context, op OpOcc) error {
	inst, err := s.GetInstance(ctx, op.CnfInstanceID)
	if err != nil {
		return err
	}
	info := inst.InstantiatedCnfInfo
	if info == nil {
		return s.finish(ctx, op, StateCompleted, nil, func(i *Instance) { i.InstantiationState, i.Phase = NotInstantiated, NotInstantiated })
	}
	cluster, err := s.cluster(ctx, info.DeploymentManagerID)
	if err != nil {
		return err
	}
	var grace *int64
	timeout := s.opts.OperationTimeout
	if op.OperationParams["terminationType"] == "FORCEFUL" {
		zero := int64(0)
		grace = &zero
	} else if g, ok := op.OperationParams["gracefulTerminationTimeout"].(float64); ok {
		gi := int64(g)
		grace = &gi
		timeout += time.Duration(gi) * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cluster.Delete(dctx, inst.CnfInstanceID, info.Namespace, objectRefs(info.Resources), grace); err != nil {
		return err
	}
	return s.finish(ctx, op, StateCompleted, nil, func(i *Instance) {
		i.InstantiationState, i.Phase = NotInstantiated, NotInstantiated
		i.InstantiatedCnfInfo = nil
	})
}

// RefreshStatus updates the replica counts of an instantiated instance
// from its cluster (for GET); failures leave the stored counts.
func (s *Service) RefreshStatus(ctx context.Context, inst Instance) Instance {
	if inst.InstantiationState != Instantiated || inst.InstantiatedCnfInfo == nil || busy(inst) {
		return inst
	}
	cluster, err := s.cluster(ctx, inst.InstantiatedCnfInfo.DeploymentManagerID)
	if err != nil {
		return inst
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := cluster.Status(sctx, objectRefs(inst.InstantiatedCnfInfo.Resources))
	if err != nil {
		return inst
	}
	inst.InstantiatedCnfInfo.Replicas, inst.InstantiatedCnfInfo.ReadyReplicas = st.Replicas, st.ReadyReplicas
	return inst
}

// RenderInput is a render of a package outside any CNF instance: what a
// GitOps delivery commits instead of applying.
type RenderInput struct {
	PackageID string
	FlavourID string
	// InstanceID labels every object (cnf.LabelInstance), as an
	// instance's objects are.
	InstanceID     string
	Namespace      string
	ResourcePoolID string
	// Replicas is the replica count of every workload.
	Replicas         int
	Resources        *Resources
	AdditionalParams map[string]any
}

// Render renders a package as Instantiate would deploy it on a pool,
// without a cluster.
func (s *Service) Render(ctx context.Context, in RenderInput) ([]*unstructured.Unstructured, error) {
	pkg, err := s.GetPackage(ctx, in.PackageID)
	if err != nil {
		return nil, err
	}
	if flavour(pkg, in.FlavourID) == nil {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "flavourId: package %s has no flavour %q", pkg.PackageID, in.FlavourID)
	}
	if !namespacePattern.MatchString(in.Namespace) {
		return nil, ims.Errorf(ims.EINVALID, "namespace: %q is not a valid Kubernetes namespace name", in.Namespace)
	}
	label, err := s.poolLabel(ctx, in.ResourcePoolID)
	if err != nil {
		return nil, err
	}
	content, _, err := s.store.PackageContent(ctx, pkg.PackageID)
	if err != nil {
		return nil, err
	}
	replicas := in.Replicas
	inst := Instance{CnfInstanceID: in.InstanceID, PackageID: pkg.PackageID, InstantiatedCnfInfo: &InstantiatedInfo{
		FlavourID: in.FlavourID, Namespace: in.Namespace, AdditionalParams: in.AdditionalParams, TargetReplicas: &replicas, ContainerResources: in.Resources,
	}}
	return cnf.Render(ctx, cnf.Kind(pkg.ContentType), content, renderParams(inst, pkg, nil, label))
}
