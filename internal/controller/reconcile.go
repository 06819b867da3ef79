package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/nephoran/o2ims/internal/intent"
	nephv1 "github.com/nephoran/o2ims/pkg/apis/nephoran/v1"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// Finalizer keeps a NetworkIntent until its deployment is gone.
const Finalizer = "nephoran.com/o2ims-deployment"

// The condition types of a NetworkIntent's status.
const (
	// CondProcessed: the intent was analysed into a deployment spec.
	CondProcessed = "Processed"
	// CondDeployed: the IMS holds the intent's deployment.
	CondDeployed = "Deployed"
	// CondReady: the deployment is ACTIVE (or SCALED).
	CondReady = "Ready"
)

// Deployments is what the controller needs of the IMS's deployments
// (*o2.DeploymentService).
type Deployments interface {
	Get(ctx context.Context, id string) (*o2.Deployment, error)
	List(ctx context.Context, opts o2.ListOptions) (*o2.Page[o2.Deployment], error)
	Create(ctx context.Context, spec *o2.DeploymentSpec) (*o2.Deployment, error)
	Update(ctx context.Context, id string, patch o2.DeploymentPatch) (*o2.Deployment, error)
	Delete(ctx context.Context, id string) error
}

// Advisor plans deployments (*o2.AdvisorService).
type Advisor interface {
	Recommend(ctx context.Context, req o2.RecommendationRequest) (*o2.Recommendation, error)
}

// CatalogSource gives the catalog of CNF packages, read again for every
// reconciliation so a changed file or ConfigMap takes effect.
type CatalogSource interface {
	Catalog(ctx context.Context) (intent.Catalog, error)
}

// EventRecorder records Kubernetes events about intents.
type EventRecorder interface {
	Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// +kubebuilder:rbac:groups=nephoran.com,resources=networkintents,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=nephoran.com,resources=networkintents/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=nephoran.com,resources=networkintents/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;create;update;patch

// Reconciler turns NetworkIntents into O2 deployments.
type Reconciler struct {
	Client      client.Client
	Deployments Deployments
	// Advisor, when set, plans new deployments; the rules and the catalog
	// plan them when it is nil or does not answer.
	Advisor  Advisor
	Catalog  CatalogSource
	Recorder EventRecorder
	Logger   *slog.Logger
	// Poll is how often a deployment in progress is read again.
	Poll time.Duration
	// Resync is how often a settled deployment is read again.
	Resync time.Duration
}

// Reconcile brings the deployment of one intent in step with it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ni nephv1.NetworkIntent
	if err := r.Client.Get(ctx, req.NamespacedName, &ni); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ni.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &ni)
	}
	if controllerutil.AddFinalizer(&ni, Finalizer) {
		if err := r.Client.Update(ctx, &ni); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, fmt.Errorf("adding the finalizer: %w", err)
		}
	}
	orig := ni.DeepCopy()
	res, err := r.sync(ctx, &ni)
	if !reflect.DeepEqual(orig.Status, ni.Status) {
		if perr := r.Client.Status().Patch(ctx, &ni, client.MergeFrom(orig)); perr != nil && !apierrors.IsNotFound(perr) {
			if apierrors.IsConflict(perr) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, errors.Join(err, fmt.Errorf("writing the status: %w", perr))
		}
	}
	return res, err
}

// sync does one step towards the intent's deployment and records in the
// intent's status where it is.
func (r *Reconciler) sync(ctx context.Context, ni *nephv1.NetworkIntent) (ctrl.Result, error) {
	switch ni.Spec.IntentType {
	case "", nephv1.IntentDeployment, nephv1.IntentScaling:
	default:
		r.fail(ni, CondProcessed, "UnsupportedIntentType", fmt.Sprintf("intentType %s is not carried out by this controller; it runs deployment and scaling intents", ni.Spec.IntentType))
		return ctrl.Result{}, nil
	}
	name := DeploymentName(ni.Namespace, ni.Name)
	d, err := r.find(ctx, ni, name)
	if err != nil {
		ni.Status.LastMessage = "the O2 IMS did not answer: " + problemDetail(err)
		return ctrl.Result{}, err
	}
	if d != nil && !ownedBy(d, ni) {
		r.fail(ni, CondDeployed, "NameInUse", fmt.Sprintf("deployment %s (%s) exists and is not this intent's", d.Name, d.DeploymentID))
		return ctrl.Result{RequeueAfter: r.Resync}, nil
	}
	if d != nil && d.Status.Phase == o2.DeploymentDeleting {
		r.setPhase(ni, nephv1.PhaseDeploying, fmt.Sprintf("waiting for deployment %s to be deleted", d.Name))
		setCondition(ni, CondReady, metav1.ConditionFalse, "Replacing", "the previous deployment is being deleted")
		return ctrl.Result{RequeueAfter: r.Poll}, nil
	}

	// A settled deployment the advisor planned is only planned again when
	// the intent changes: a model need not answer the same twice.
	if d != nil && r.Advisor != nil && ni.Status.ObservedGeneration == ni.Generation && ni.Status.ProcessingResults != nil && ni.Status.ProcessingResults.Source != "rules" {
		r.mirror(ni, d)
		return r.after(ni), nil
	}

	want, err := r.plan(ctx, ni)
	if err != nil {
		var perm *planError
		if errors.As(err, &perm) {
			r.fail(ni, CondProcessed, perm.reason, perm.msg)
			return ctrl.Result{RequeueAfter: r.Resync}, nil
		}
		return ctrl.Result{}, err
	}

	if d == nil {
		if ni.Status.Phase == "" {
			r.setPhase(ni, nephv1.PhaseProcessing, "creating deployment "+want.Name)
		}
		created, err := r.Deployments.Create(ctx, want)
		switch {
		case o2.IsUnprocessable(err) || o2.IsBadRequest(err):
			r.fail(ni, CondDeployed, "NotPlaced", "the O2 IMS refused the deployment: "+problemDetail(err))
			return ctrl.Result{RequeueAfter: r.Resync}, nil
		case o2.IsConflict(err):
			return ctrl.Result{RequeueAfter: r.Poll}, nil // made meanwhile: adopt it next time
		case err != nil:
			ni.Status.LastMessage = "the O2 IMS did not create the deployment: " + problemDetail(err)
			return ctrl.Result{}, err
		}
		r.event(ni, corev1.EventTypeNormal, "Created", "CreateDeployment", "created deployment %s (%s)", created.Name, created.DeploymentID)
		ni.Status.ObservedGeneration = ni.Generation
		r.mirror(ni, created)
		return ctrl.Result{RequeueAfter: r.Poll}, nil
	}

	patch, replace := drift(d, want)
	switch {
	case replace != "":
		// The running deployment goes only when its successor can be
		// placed; the plan is checked beside it, on what it leaves free.
		probe := *want
		probe.DryRun = true
		if _, err := r.Deployments.Create(ctx, &probe); o2.IsUnprocessable(err) || o2.IsBadRequest(err) {
			r.mirror(ni, d)
			r.fail(ni, CondDeployed, "NotReplaced", fmt.Sprintf("%s, but the O2 IMS cannot place the changed intent: %s; deployment %s keeps running", replace, problemDetail(err), d.Name))
			return ctrl.Result{RequeueAfter: r.Resync}, nil
		} else if err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Deployments.Delete(ctx, d.DeploymentID); err != nil && !o2.IsNotFound(err) {
			if o2.IsConflict(err) {
				return ctrl.Result{RequeueAfter: r.Poll}, nil
			}
			return ctrl.Result{}, err
		}
		r.event(ni, corev1.EventTypeNormal, "Replacing", "DeleteDeployment", "replacing deployment %s: %s", d.Name, replace)
		r.setPhase(ni, nephv1.PhaseDeploying, fmt.Sprintf("replacing deployment %s: %s", d.Name, replace))
		setCondition(ni, CondReady, metav1.ConditionFalse, "Replacing", replace)
		return ctrl.Result{RequeueAfter: r.Poll}, nil
	case patch != nil:
		updated, err := r.Deployments.Update(ctx, d.DeploymentID, *patch)
		switch {
		case o2.IsConflict(err):
			return ctrl.Result{RequeueAfter: r.Poll}, nil // an operation is under way
		case o2.IsUnprocessable(err) || o2.IsBadRequest(err):
			r.fail(ni, CondDeployed, "NotUpdated", "the O2 IMS refused the change: "+problemDetail(err))
			return ctrl.Result{RequeueAfter: r.Resync}, nil
		case err != nil:
			return ctrl.Result{}, err
		}
		r.event(ni, corev1.EventTypeNormal, "Updated", "UpdateDeployment", "updated deployment %s", d.Name)
		d = updated
	}
	ni.Status.ObservedGeneration = ni.Generation
	r.mirror(ni, d)
	return r.after(ni), nil
}

// after is when to look again: soon while the deployment is on its way.
func (r *Reconciler) after(ni *nephv1.NetworkIntent) ctrl.Result {
	if ni.Status.Phase == nephv1.PhaseActive || ni.Status.Phase == nephv1.PhaseFailed {
		return ctrl.Result{RequeueAfter: r.Resync}
	}
	return ctrl.Result{RequeueAfter: r.Poll}
}

// planError is an intent the controller cannot turn into a deployment
// until the intent, or the catalog, changes.
type planError struct{ reason, msg string }

func (e *planError) Error() string { return e.msg }

// plan is the deployment the intent asks for; the analysis goes into the
// intent's status.
func (r *Reconciler) plan(ctx context.Context, ni *nephv1.NetworkIntent) (*o2.DeploymentSpec, error) {
	reqs, params, err := Analyse(ni)
	if err != nil {
		return nil, &planError{"InvalidIntent", problemDetail(err)}
	}
	var (
		want   *o2.DeploymentSpec
		source = "rules"
	)
	if r.Advisor != nil {
		want, err = r.recommend(ctx, ni, reqs, params)
		switch {
		case o2.IsUnprocessable(err) || o2.IsBadRequest(err):
			return nil, &planError{"NotPlaced", "the advisor found no plan: " + problemDetail(err)}
		case err != nil:
			r.Logger.WarnContext(ctx, "the advisor did not answer; planning by the rules", "intent", ni.Namespace+"/"+ni.Name, "err", err)
		default:
			source = "advisor"
		}
	}
	if want == nil {
		catalog, err := r.Catalog.Catalog(ctx)
		if err != nil {
			return nil, &planError{"CatalogUnavailable", err.Error()}
		}
		if want, err = Desired(ni, reqs, params, catalog); err != nil {
			return nil, &planError{"NoPackage", problemDetail(err)}
		}
	}
	res := results(reqs, want, source)
	if old := ni.Status.ProcessingResults; old != nil {
		res.ResourcePools = old.ResourcePools
		res.ProcessedAt = old.ProcessedAt
		if !reflect.DeepEqual(*old, *res) || old.ProcessedAt == nil {
			res.ProcessedAt = nil
		}
	}
	if res.ProcessedAt == nil {
		now := metav1.Now()
		res.ProcessedAt = &now
	}
	ni.Status.ProcessingResults = res
	setCondition(ni, CondProcessed, metav1.ConditionTrue, "Analysed", fmt.Sprintf("%d network functions: %v", len(want.Components), res.NetworkFunctions))
	return want, nil
}

// recommend asks the IMS's advisor for a plan.
func (r *Reconciler) recommend(ctx context.Context, ni *nephv1.NetworkIntent, reqs intent.Requirements, params parameters) (*o2.DeploymentSpec, error) {
	req := o2.RecommendationRequest{
		Intent:       ni.Spec.Intent,
		IntentType:   string(ni.Spec.IntentType),
		Region:       ni.Spec.Region,
		NetworkSlice: ni.Spec.NetworkSlice,
		Replicas:     params.Replicas,
	}
	for _, f := range reqs.Functions {
		req.TargetComponents = append(req.TargetComponents, f.Name)
	}
	if ni.Spec.TargetCluster != "" {
		req.Constraints = &o2.RecommendationConstraints{Providers: []string{ni.Spec.TargetCluster}}
	}
	rec, err := r.Advisor.Recommend(ctx, req)
	if err != nil {
		return nil, err
	}
	return finish(ni, &rec.Plan, params), nil
}

// find returns the intent's deployment, or nil: the one its status
// names, else the one of its name.
func (r *Reconciler) find(ctx context.Context, ni *nephv1.NetworkIntent, name string) (*o2.Deployment, error) {
	if id := ni.Status.DeploymentID; id != "" {
		d, err := r.Deployments.Get(ctx, id)
		if err == nil {
			return d, nil
		}
		if !o2.IsNotFound(err) {
			return nil, err
		}
	}
	page, err := r.Deployments.List(ctx, o2.ListOptions{Filter: o2.Eq("name", name), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, nil
	}
	d, err := r.Deployments.Get(ctx, page.Items[0].DeploymentID)
	if o2.IsNotFound(err) {
		return nil, nil
	}
	return d, err
}

// finalize deletes the intent's deployment, waits until the IMS has
// removed it, then lets the intent go.
func (r *Reconciler) finalize(ctx context.Context, ni *nephv1.NetworkIntent) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ni, Finalizer) {
		return ctrl.Result{}, nil
	}
	d, err := r.find(ctx, ni, DeploymentName(ni.Namespace, ni.Name))
	if err != nil {
		return ctrl.Result{}, err
	}
	if d != nil && ownedBy(d, ni) {
		if d.Status.Phase != o2.DeploymentDeleting {
			if err := r.Deployments.Delete(ctx, d.DeploymentID); err != nil && !o2.IsNotFound(err) {
				if o2.IsConflict(err) {
					return ctrl.Result{RequeueAfter: r.Poll}, nil
				}
				return ctrl.Result{}, err
			}
			r.event(ni, corev1.EventTypeNormal, "Deleting", "DeleteDeployment", "deleting deployment %s (%s)", d.Name, d.DeploymentID)
		}
		return ctrl.Result{RequeueAfter: r.Poll}, nil
	}
	controllerutil.RemoveFinalizer(ni, Finalizer)
	if err := r.Client.Update(ctx, ni); err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, fmt.Errorf("removing the finalizer: %w", err)
	}
	return ctrl.Result{}, nil
}

// mirror copies the deployment's phase into the intent's status.
func (r *Reconciler) mirror(ni *nephv1.NetworkIntent, d *o2.Deployment) {
	ni.Status.DeploymentID = d.DeploymentID
	ni.Status.DeploymentName = d.Name
	setCondition(ni, CondDeployed, metav1.ConditionTrue, "Created", fmt.Sprintf("deployment %s (%s)", d.Name, d.DeploymentID))
	if res := ni.Status.ProcessingResults; res != nil {
		var pools []string
		for _, c := range d.Status.Components {
			p := c.ResourcePoolName
			if p == "" {
				p = c.ResourcePoolID
			}
			if p != "" && !slices.Contains(pools, p) {
				pools = append(pools, p)
			}
		}
		slices.Sort(pools)
		if len(pools) > 0 {
			res.ResourcePools = pools
		}
	}
	msg := fmt.Sprintf("deployment %s is %s", d.Name, d.Status.Phase)
	if d.Status.Message != "" {
		msg += ": " + d.Status.Message
	}
	switch d.Status.Phase {
	case o2.DeploymentActive, o2.DeploymentScaled:
		r.setPhase(ni, nephv1.PhaseActive, msg)
		setCondition(ni, CondReady, metav1.ConditionTrue, string(d.Status.Phase), msg)
	case o2.DeploymentDegraded:
		r.setPhase(ni, nephv1.PhaseActive, msg)
		setCondition(ni, CondReady, metav1.ConditionFalse, "Degraded", msg)
	case o2.DeploymentFailed:
		if p := d.Status.Error; p != nil && p.Detail != "" {
			msg = fmt.Sprintf("deployment %s FAILED: %s", d.Name, p.Detail)
		}
		r.setPhase(ni, nephv1.PhaseFailed, msg)
		setCondition(ni, CondReady, metav1.ConditionFalse, "DeploymentFailed", msg)
	default:
		r.setPhase(ni, nephv1.PhaseDeploying, msg)
		setCondition(ni, CondReady, metav1.ConditionFalse, string(d.Status.Phase), msg)
	}
}

// fail records why the intent cannot go on.
func (r *Reconciler) fail(ni *nephv1.NetworkIntent, cond, reason, msg string) {
	setCondition(ni, cond, metav1.ConditionFalse, reason, msg)
	if cond == CondProcessed {
		ni.Status.ProcessingResults = nil
	}
	ni.Status.ObservedGeneration = ni.Generation
	r.setPhase(ni, nephv1.PhaseFailed, msg)
}

// setPhase sets the phase and message, with an event when the phase
// changes.
func (r *Reconciler) setPhase(ni *nephv1.NetworkIntent, phase nephv1.Phase, msg string) {
	if ni.Status.Phase != phase {
		kind := corev1.EventTypeNormal
		if phase == nephv1.PhaseFailed {
			kind = corev1.EventTypeWarning
		}
		r.event(ni, kind, string(phase), "Reconcile", "%s", msg)
	}
	ni.Status.Phase = phase
	ni.Status.LastMessage = truncate(msg, 1024)
}

func (r *Reconciler) event(ni *nephv1.NetworkIntent, kind, reason, action, format string, args ...any) {
	r.Logger.Info(fmt.Sprintf(format, args...), "intent", ni.Namespace+"/"+ni.Name, "reason", reason)
	if r.Recorder != nil {
		r.Recorder.Eventf(ni, nil, kind, reason, action, format, args...)
	}
}

func setCondition(ni *nephv1.NetworkIntent, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&ni.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(msg, 1024), ObservedGeneration: ni.Generation,
	})
}

// problemDetail is the IMS's own words for err.
func problemDetail(err error) string {
	var p *o2.ProblemError
	if errors.As(err, &p) && p.Detail != "" {
		return p.Detail
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
