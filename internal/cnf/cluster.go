package cnf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Cluster applies, observes and deletes the objects of CNF instances on one
// Kubernetes cluster. It is safe for concurrent use. It contacts the cluster
// only when a method is called, so a cluster that is down at start-up
// delays nothing.
type Cluster struct {
	logger *slog.Logger
	dyn    dynamic.Interface
	disco  discovery.CachedDiscoveryInterfaceWithContext
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// ObjectRef names one applied object. Namespace is empty for
// cluster-scoped objects.
type ObjectRef struct {
	APIVersion, Kind, Namespace, Name string
}

// String formats the reference for messages, as "Kind namespace/name".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// WorkloadStatus sums the replicas of the workloads of an instance.
type WorkloadStatus struct {
	Replicas, ReadyReplicas int
	Workloads               []WorkloadReplicas
}

// WorkloadReplicas are the desired and ready replicas of one workload. A
// workload that no longer exists reports zero for both.
type WorkloadReplicas struct {
	Kind, Name              string
	Replicas, ReadyReplicas int
}

// Timing of the polling loops. Polling rather than watching keeps the code
// simple; the loops run only during lifecycle operations.
const (
	pollMin = 200 * time.Millisecond
	pollMax = 2 * time.Second
	// crdWait bounds how long Apply waits for the API server to serve a
	// kind whose CustomResourceDefinition it applied in the same call.
	crdWait = 30 * time.Second
)

// NewCluster returns a Cluster for the API server of cfg, which it copies. A
// nil logger discards log records.
func NewCluster(cfg *rest.Config, logger *slog.Logger) (*Cluster, error) {
	if cfg == nil {
		return nil, ims.Errorf(ims.EINVALID, "a cluster configuration is required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "nephoran-o2ims"
	}
	if cfg.QPS == 0 {
		// client-go's default of 5 per second makes a deletion sweep over
		// every resource type take many seconds.
		cfg.QPS, cfg.Burst = 50, 100
	}
	// Without a handler client-go prints API warnings to stderr through
	// klog; they belong in this server's log.
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = warningLogger{logger: logger}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, ims.Errorf(ims.EINVALID, "kubernetes client: %v", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, ims.Errorf(ims.EINVALID, "kubernetes discovery client: %v", err)
	}
	cached := memory.NewMemCacheClientWithContext(dc)
	return &Cluster{
		logger: logger,
		dyn:    dyn,
		disco:  cached,
		mapper: restmapper.NewDeferredDiscoveryRESTMapperWithContext(cached),
	}, nil
}

// warningLogger sends API server warnings (deprecated APIs, ignored fields)
// to the server's log.
type warningLogger struct{ logger *slog.Logger }

func (w warningLogger) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	w.logger.DebugContext(ctx, "kubernetes API warning", "code", code, "warning", text)
}

// installOrder ranks kinds so that what others depend on is applied first,
// in the order Helm installs them. Unknown kinds, custom resources among
// them, come last.
var installOrder = func() map[string]int {
	kinds := []string{
		"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
		"PodDisruptionBudget", "ServiceAccount", "Secret", "ConfigMap", "StorageClass",
		"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
		"ClusterRoleBinding", "Role", "RoleBinding", "Service", "DaemonSet", "Pod",
		"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
		"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	}
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i + 1
	}
	return m
}()

func rank(kind string) int {
	if r, ok := installOrder[kind]; ok {
		return r
	}
	return len(installOrder) + 1
}

// Apply server-side-applies objs with field manager FieldManager, forcing
// conflicts, after creating namespace if it is missing. Namespaced objects
// are placed in namespace whatever their own namespace says, so that an
// instance cannot reach into other namespaces. Objects are applied in
// dependency order (namespaces, CRDs and configuration before workloads);
// all of them are first validated by a dry run, so that an object the API
// server rejects usually leaves the cluster untouched.
//
// An object the API server rejects yields an *ims.Error EUNPROCESSABLE
// whose message includes the server's; an unreachable or failing server
// yields EUNAVAILABLE. The references of the applied objects are returned
// in the order they were applied; when applying fails part-way (after the
// dry run), those applied before the failure are returned with the error,
// so that the caller can clean them up.
func (c *Cluster) Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured) ([]ObjectRef, error) {
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return nil, ims.Errorf(ims.EINVALID, "namespace %q is invalid: %s", namespace, strings.Join(errs, "; "))
	}
	todo := make([]*unstructured.Unstructured, 0, len(objs))
	crds := map[schema.GroupKind]bool{}
	for _, o := range objs {
		if o == nil || o.GetName() == "" || o.GetKind() == "" || o.GetAPIVersion() == "" {
			return nil, ims.Errorf(ims.EINVALID, "every object needs apiVersion, kind and metadata.name")
		}
		// Not o.DeepCopy: it panics on values JSON decoding never makes,
		// such as a Go int, which callers building objects may use.
		copied, _ := deepCopyValues(o.Object).(map[string]any)
		o = &unstructured.Unstructured{Object: copied}
		// Server-side apply treats these as preconditions or ignores
		// them; rendered packages should not carry them at all.
		for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink"} {
			unstructured.RemoveNestedField(o.Object, "metadata", f)
		}
		todo = append(todo, o)
		if o.GetKind() == "CustomResourceDefinition" && groupOf(o.GetAPIVersion()) == "apiextensions.k8s.io" {
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			crds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return rank(todo[i].GetKind()) < rank(todo[j].GetKind()) })

	if err := c.ensureNamespace(ctx, namespace); err != nil {
		return nil, err
	}

	// Mappings of kinds defined by CRDs of this batch are resolved after
	// those CRDs are applied; the rest are resolved now, and a kind the
	// cluster does not serve fails the whole apply before any change.
	mappings := make([]*meta.RESTMapping, len(todo))
	for i, o := range todo {
		gvk := o.GroupVersionKind()
		m, err := c.mapping(ctx, gvk)
		switch {
		case err == nil:
			mappings[i] = m
			setScope(o, m, namespace)
		case meta.IsNoMatchError(err) && crds[gvk.GroupKind()]:
			o.SetNamespace(namespace) // custom resources are namespaced more often than not
		default:
			return nil, c.mappingError(err, gvk)
		}
	}
	for i, o := range todo {
		if mappings[i] == nil {
			continue
		}
		if err := c.applyOne(ctx, mappings[i], o, true); err != nil {
			return nil, err
		}
	}
	refs := make([]ObjectRef, 0, len(todo))
	for i, o := range todo {
		m := mappings[i]
		if m == nil {
			var err error
			if m, err = c.waitMapping(ctx, o.GroupVersionKind()); err != nil {
				return refs, err
			}
			setScope(o, m, namespace)
		}
		if err := c.applyOne(ctx, m, o, false); err != nil {
			return refs, err
		}
		refs = append(refs, ObjectRef{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	c.logger.InfoContext(ctx, "applied objects", "namespace", namespace, "count", len(refs))
	return refs, nil
}

// setScope sets or clears an object's namespace by its mapping's scope.
func setScope(o *unstructured.Unstructured, m *meta.RESTMapping, namespace string) {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		o.SetNamespace(namespace)
	} else {
		o.SetNamespace("")
	}
}

func (c *Cluster) applyOne(ctx context.Context, m *meta.RESTMapping, o *unstructured.Unstructured, dryRun bool) error {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err := c.resource(m, o.GetNamespace()).Apply(ctx, o.GetName(), o, opts)
	if err != nil {
		ref := ObjectRef{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
		return apiError(err, "apply "+ref.String())
	}
	return nil
}

func (c *Cluster) resource(m *meta.RESTMapping, namespace string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource).Namespace(namespace)
	}
	return c.dyn.Resource(m.Resource)
}

var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// ensureNamespace creates namespace unless it exists. Lacking permission
// to read namespaces is not an error: the namespace may exist and the
// credentials be scoped to it, and applying into it will tell.
func (c *Cluster) ensureNamespace(ctx context.Context, namespace string) error {
	_, err := c.dyn.Resource(namespaceGVR).Get(ctx, namespace, metav1.GetOptions{})
	switch {
	case err == nil:
		return nil
	case apierrors.IsForbidden(err):
		c.logger.DebugContext(ctx, "cannot read namespace; assuming it exists", "namespace", namespace, "error", err)
		return nil
	case !apierrors.IsNotFound(err):
		return apiError(err, "read namespace "+namespace)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": namespace},
	}}
	_, err = c.dyn.Resource(namespaceGVR).Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return apiError(err, "create namespace "+namespace)
	}
	if err == nil {
		c.logger.InfoContext(ctx, "created namespace", "namespace", namespace)
	}
	return nil
}

// mapping resolves a kind, refreshing discovery once when the cached
// discovery does not know it, as it may have been added since.
func (c *Cluster) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.ResetWithContext(ctx)
		m, err = c.mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
	}
	return m, err
}

// waitMapping waits for a kind whose CRD was just applied to be served.
func (c *Cluster) waitMapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	deadline := time.Now().Add(crdWait)
	delay := pollMin
	for {
		m, err := c.mapping(ctx, gvk)
		if err == nil {
			return m, nil
		}
		if !meta.IsNoMatchError(err) || time.Now().After(deadline) {
			return nil, c.mappingError(err, gvk)
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, apiError(err, "wait for kind "+gvk.Kind)
		}
		delay = min(delay*3/2, pollMax)
	}
}

func (c *Cluster) mappingError(err error, gvk schema.GroupVersionKind) error {
	if meta.IsNoMatchError(err) {
		return &ims.Error{Code: ims.EUNPROCESSABLE, Err: err,
			Message: fmt.Sprintf("the cluster does not serve kind %s of API version %s", gvk.Kind, gvk.GroupVersion())}
	}
	return apiError(err, "discover kind "+gvk.Kind)
}

// apiError classifies an error of a cluster call. The API server rejecting
// a request (4xx other than throttling and timeouts) is EUNPROCESSABLE
// with the server's message, which says what to fix; everything else means
// the cluster could not be asked and is EUNAVAILABLE. The cause stays
// reachable through errors.Is/As, context errors included.
func apiError(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &ims.Error{Code: ims.EUNAVAILABLE, Message: what + ": interrupted", Err: err}
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		st := status.Status()
		switch code := int(st.Code); {
		case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500 || code == 0:
			return &ims.Error{Code: ims.EUNAVAILABLE, Message: what + ": " + st.Message, Err: err}
		default:
			return &ims.Error{Code: ims.EUNPROCESSABLE, Message: what + ": " + st.Message, Err: err}
		}
	}
	return &ims.Error{Code: ims.EUNAVAILABLE, Message: what + ": the cluster cannot be reached", Err: err}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// workloadRefs returns the Deployments and StatefulSets among refs.
func workloadRefs(refs []ObjectRef) []ObjectRef {
	var out []ObjectRef
	for _, r := range refs {
		if isWorkload(r.APIVersion, r.Kind) {
			out = append(out, r)
		}
	}
	return out
}

// workloadState is what WaitReady and Status read from a workload.
type workloadState struct {
	ref             ObjectRef
	found           bool
	replicas, ready int
	settled         bool
	summary         string
}

// readWorkload reads a workload and judges whether it has settled: its
// controller has seen the current spec and exactly the desired number of
// up-to-date replicas are ready, with no surplus old ones.
func (c *Cluster) readWorkload(ctx context.Context, r ObjectRef) (workloadState, error) {
	s := workloadState{ref: r}
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return s, ims.Errorf(ims.EINVALID, "%s: bad API version %q", r, r.APIVersion)
	}
	m, err := c.mapping(ctx, gv.WithKind(r.Kind))
	if err != nil {
		return s, c.mappingError(err, gv.WithKind(r.Kind))
	}
	obj, err := c.resource(m, r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s.summary = "not found"
		return s, nil
	}
	if err != nil {
		return s, apiError(err, "read "+r.String())
	}
	s.found = true
	num := func(fields ...string) int {
		v, _, _ := unstructured.NestedInt64(obj.Object, fields...)
		return int(v)
	}
	s.replicas = 1 // the API's default
	if v, ok, _ := unstructured.NestedInt64(obj.Object, "spec", "replicas"); ok {
		s.replicas = int(v)
	}
	s.ready = num("status", "readyReplicas")
	generation, observed := obj.GetGeneration(), int64(num("status", "observedGeneration"))
	total, updated := num("status", "replicas"), num("status", "updatedReplicas")
	current := observed >= generation
	switch r.Kind {
	case "Deployment":
		available := num("status", "availableReplicas")
		s.settled = current && updated == s.replicas && s.ready == s.replicas && total == s.replicas && available == s.replicas
	case "StatefulSet":
		// A rolling update with a partition leaves the pods below the
		// partition at the old revision on purpose.
		wantUpdated := s.replicas
		strategy, _, _ := unstructured.NestedString(obj.Object, "spec", "updateStrategy", "type")
		if strategy == "OnDelete" {
			wantUpdated = 0
		} else if p, ok, _ := unstructured.NestedInt64(obj.Object, "spec", "updateStrategy", "rollingUpdate", "partition"); ok {
			wantUpdated = max(0, s.replicas-int(p))
		}
		s.settled = current && updated >= wantUpdated && s.ready == s.replicas && total == s.replicas
	}
	s.summary = fmt.Sprintf("%d of %d replicas ready, %d updated, %d in total, generation %d observed %d",
		s.ready, s.replicas, updated, total, generation, observed)
	if conds, ok, _ := unstructured.NestedSlice(obj.Object, "status", "conditions"); ok {
		for _, cv := range conds {
			cm, _ := cv.(map[string]any)
			if st, _ := cm["status"].(string); st != "True" {
				t, _ := cm["type"].(string)
				reason, _ := cm["reason"].(string)
				msg, _ := cm["message"].(string)
				s.summary += fmt.Sprintf("; %s=%s (%s: %s)", t, st, reason, msg)
			}
		}
	}
	return s, nil
}

// WaitReady waits until every Deployment and StatefulSet among refs has
// settled: observedGeneration is current and ready replicas equal
// spec.replicas (for a Deployment also updated, available and total
// replicas), or until ctx ends. A workload that does not exist is waited
// for. When ctx ends the error is an *ims.Error EUNAVAILABLE naming the
// workloads not ready with their status, and wraps ctx's error. Failing to
// read a workload ends the wait with that error.
func (c *Cluster) WaitReady(ctx context.Context, refs []ObjectRef) error {
	ws := workloadRefs(refs)
	delay := pollMin
	for {
		var pending []string
		for _, r := range ws {
			s, err := c.readWorkload(ctx, r)
			if err != nil {
				if ctx.Err() != nil {
					break // reported below with the last known states
				}
				return err
			}
			if !s.settled {
				pending = append(pending, r.String()+": "+s.summary)
			}
		}
		if len(pending) == 0 && ctx.Err() == nil {
			c.logger.DebugContext(ctx, "workloads ready", "count", len(ws))
			return nil
		}
		if err := sleep(ctx, delay); err != nil {
			if len(pending) == 0 {
				pending = append(pending, "their status could not be read")
			}
			return &ims.Error{Code: ims.EUNAVAILABLE, Err: err,
				Message: "workloads not ready: " + strings.Join(pending, "; ")}
		}
		delay = min(delay*3/2, pollMax)
	}
}

// Status reports the desired and ready replicas of the Deployments and
// StatefulSets among refs, in total and per workload. A workload that does
// not exist reports zero replicas.
func (c *Cluster) Status(ctx context.Context, refs []ObjectRef) (WorkloadStatus, error) {
	var st WorkloadStatus
	for _, r := range workloadRefs(refs) {
		s, err := c.readWorkload(ctx, r)
		if err != nil {
			return WorkloadStatus{}, err
		}
		if !s.found {
			c.logger.WarnContext(ctx, "workload of a CNF instance is missing", "workload", r.String())
			s.replicas = 0
		}
		st.Replicas += s.replicas
		st.ReadyReplicas += s.ready
		st.Workloads = append(st.Workloads, WorkloadReplicas{Kind: r.Kind, Name: r.Name, Replicas: s.replicas, ReadyReplicas: s.ready})
	}
	return st, nil
}

// Delete deletes refs with foreground propagation, so that an owner
// disappears only after what it owns, then deletes every other object in
// namespace labelled LabelInstance=instanceID (objects a previous render
// had, claims of StatefulSets, pods), and waits until the API server
// reports all of them gone or ctx ends. Foreground deletion relies on the
// cluster's garbage collector, which learns of new kinds periodically
// (every 30 seconds in kube-controller-manager), so custom resources whose
// CRD was created moments before take that much longer to go. gracePeriod, when not nil,
// overrides the pods' termination grace period. Kinds the cluster no
// longer serves count as gone. When ctx ends first the error is an
// *ims.Error EUNAVAILABLE naming what remains and wrapping ctx's error.
func (c *Cluster) Delete(ctx context.Context, instanceID, namespace string, refs []ObjectRef, gracePeriod *int64) error {
	if errs := validation.IsValidLabelValue(instanceID); instanceID == "" || len(errs) > 0 {
		return ims.Errorf(ims.EINVALID, "instance id %q is not a valid label value", instanceID)
	}
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return ims.Errorf(ims.EINVALID, "namespace %q is invalid: %s", namespace, strings.Join(errs, "; "))
	}
	if gracePeriod != nil && *gracePeriod < 0 {
		return ims.Errorf(ims.EINVALID, "the grace period must not be negative")
	}
	foreground := metav1.DeletePropagationForeground
	opts := metav1.DeleteOptions{PropagationPolicy: &foreground, GracePeriodSeconds: gracePeriod}

	type target struct {
		ref ObjectRef
		ri  dynamic.ResourceInterface
	}
	var targets []target
	// Reverse apply order: workloads go before what they use.
	for i := len(refs) - 1; i >= 0; i-- {
		r := refs[i]
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil {
			return ims.Errorf(ims.EINVALID, "%s: bad API version %q", r, r.APIVersion)
		}
		m, err := c.mapping(ctx, gv.WithKind(r.Kind))
		if meta.IsNoMatchError(err) {
			c.logger.InfoContext(ctx, "kind no longer served; nothing to delete", "object", r.String())
			continue
		}
		if err != nil {
			return c.mappingError(err, gv.WithKind(r.Kind))
		}
		targets = append(targets, target{ref: r, ri: c.resource(m, r.Namespace)})
	}
	// Discovery is refreshed so that kinds added since the instance was
	// applied are swept too.
	c.mapper.ResetWithContext(ctx)
	swept, err := c.sweepResources(ctx)
	if err != nil {
		return err
	}
	selector := LabelInstance + "=" + instanceID

	delay := pollMin
	for {
		left := map[string]bool{} // refs are usually labelled too
		for _, t := range targets {
			obj, err := t.ri.Get(ctx, t.ref.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return apiError(err, "read "+t.ref.String())
			}
			left[t.ref.String()] = true
			if obj.GetDeletionTimestamp() == nil {
				if err := t.ri.Delete(ctx, t.ref.Name, opts); err != nil && !apierrors.IsNotFound(err) {
					return apiError(err, "delete "+t.ref.String())
				}
				c.logger.DebugContext(ctx, "deleting", "object", t.ref.String())
			}
		}
		for _, gvr := range swept {
			ri := c.dyn.Resource(gvr).Namespace(namespace)
			list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) {
					continue // the kind went away, or is not ours to see
				}
				return apiError(err, "list "+gvr.Resource)
			}
			for _, item := range list.Items {
				ref := ObjectRef{Kind: item.GetKind(), Namespace: namespace, Name: item.GetName()}
				if ref.Kind == "" {
					ref.Kind = gvr.Resource
				}
				left[ref.String()] = true
				if item.GetDeletionTimestamp() != nil {
					continue
				}
				if err := ri.Delete(ctx, item.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
					return apiError(err, "delete "+ref.String())
				}
				c.logger.DebugContext(ctx, "deleting labelled object", "object", ref.String())
			}
		}
		if len(left) == 0 && ctx.Err() == nil {
			c.logger.InfoContext(ctx, "deleted CNF instance objects", "instance", instanceID, "namespace", namespace)
			return nil
		}
		remaining := make([]string, 0, len(left))
		for r := range left {
			remaining = append(remaining, r)
		}
		sort.Strings(remaining)
		c.logger.DebugContext(ctx, "waiting for deletion", "instance", instanceID, "remaining", remaining)
		if err := sleep(ctx, delay); err != nil {
			if len(remaining) > 20 {
				remaining = append(remaining[:20], fmt.Sprintf("and %d more", len(remaining)-20))
			}
			msg := "objects not yet deleted: " + strings.Join(remaining, ", ")
			if len(remaining) == 0 {
				msg = "deletion was interrupted"
			}
			return &ims.Error{Code: ims.EUNAVAILABLE, Message: msg, Err: err}
		}
		delay = min(delay*3/2, pollMax)
	}
}

// sweepResources returns the namespaced resource types that can be listed
// and deleted. Events are left out: they carry no instance labels and age
// out on their own. Group versions whose discovery fails (an aggregated
// API that is down) are skipped rather than failing the deletion.
func (c *Cluster) sweepResources(ctx context.Context) ([]schema.GroupVersionResource, error) {
	lists, err := c.disco.ServerPreferredNamespacedResourcesWithContext(ctx)
	if err != nil {
		if !discovery.IsGroupDiscoveryFailedError(err) || len(lists) == 0 {
			return nil, apiError(err, "discover resource types")
		}
		c.logger.WarnContext(ctx, "some API groups could not be discovered; their objects are not swept", "error", err)
	}
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || r.Name == "events" {
				continue
			}
			verbs := map[string]bool{}
			for _, v := range r.Verbs {
				verbs[v] = true
			}
			if verbs["list"] && verbs["delete"] {
				out = append(out, gv.WithResource(r.Name))
			}
		}
	}
	return out, nil
}
