package provisioning

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/nephoran/o2ims/internal/ims"
)

// KindNamespace is the template kind the NamespaceRealizer realizes.
const KindNamespace = "kubernetes-namespace"

// The namespace's label naming its provisioning request, the quota's
// name, and the field manager of the server-side applies.
const (
	LabelRequest = "o2ims.nephoran.io/provisioning-request"
	QuotaName    = "o2ims-quota"
	fieldManager = "o2ims-provisioning"
)

// Clusters resolves a deployment manager to its Kubernetes cluster's
// client configuration (ENOTFOUND for an unknown deployment manager,
// EUNPROCESSABLE for one that is not a Kubernetes cluster).
type Clusters interface {
	RESTConfig(ctx context.Context, deploymentManagerID string) (*rest.Config, error)
}

// NamespaceRealizer realizes kubernetes-namespace templates: a namespace
// on a registered cluster, labelled with the request, and its optional
// ResourceQuota, both server-side applied.
type NamespaceRealizer struct {
	clusters Clusters
	logger   *slog.Logger
}

var (
	_ Realizer  = (*NamespaceRealizer)(nil)
	_ Validator = (*NamespaceRealizer)(nil)
)

// NewNamespaceRealizer returns the kubernetes-namespace realizer.
func NewNamespaceRealizer(clusters Clusters, logger *slog.Logger) *NamespaceRealizer {
	return &NamespaceRealizer{clusters: clusters, logger: logger}
}

// namespaceParams are a kubernetes-namespace request's parameters.
type namespaceParams struct {
	DeploymentManagerID string            `json:"deploymentManagerId"`
	Namespace           string            `json:"namespace"`
	Labels              map[string]string `json:"labels,omitempty"`
	Quota               *struct {
		CPU    string `json:"cpu,omitempty"`
		Memory string `json:"memory,omitempty"`
		Pods   *int64 `json:"pods,omitempty"`
	} `json:"quota,omitempty"`
}

// namespaceState is what Apply created, for a later Apply or Delete to
// find it when the parameters have changed.
type namespaceState struct {
	DeploymentManagerID string `json:"deploymentManagerId"`
	Namespace           string `json:"namespace"`
}

func parseNamespaceParams(params map[string]any) (namespaceParams, error) {
	var p namespaceParams
	b, err := json.Marshal(params)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		return p, ims.Errorf(ims.EINVALID, "templateParameters: not the parameters of a kubernetes-namespace template")
	}
	return p, nil
}

// Validate refuses a deploymentManagerId that names no registered
// Kubernetes cluster, and quota values that are not Kubernetes quantities.
func (n *NamespaceRealizer) Validate(ctx context.Context, _ Template, params map[string]any) error {
	p, err := parseNamespaceParams(params)
	if err != nil {
		return err
	}
	if p.Quota != nil {
		for name, v := range map[string]string{"cpu": p.Quota.CPU, "memory": p.Quota.Memory} {
			if v == "" {
				continue
			}
			if _, err := resource.ParseQuantity(v); err != nil {
				return ims.Errorf(ims.EINVALID, "templateParameters.quota.%s: %q is not a Kubernetes quantity", name, v)
			}
		}
	}
	if _, err := n.clusters.RESTConfig(ctx, p.DeploymentManagerID); err != nil {
		switch ims.ErrorCode(err) {
		case ims.ENOTFOUND:
			return ims.Errorf(ims.EINVALID, "templateParameters.deploymentManagerId: no deployment manager %q is registered", p.DeploymentManagerID)
		case ims.EUNPROCESSABLE:
			return ims.Errorf(ims.EINVALID, "templateParameters.deploymentManagerId: deployment manager %q is not a Kubernetes cluster", p.DeploymentManagerID)
		}
		return err
	}
	return nil
}

func (n *NamespaceRealizer) client(ctx context.Context, dmID string) (kubernetes.Interface, error) {
	cfg, err := n.clusters.RESTConfig(ctx, dmID)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Apply server-side applies the namespace and its quota (or removes a
// quota the parameters no longer ask for). A namespace of the same name
// that another request or anyone else created is not taken over.
func (n *NamespaceRealizer) Apply(ctx context.Context, job Job) (Progress, error) {
	p, err := parseNamespaceParams(job.Parameters)
	if err != nil {
		return Progress{Phase: Failed, Message: ims.ErrorMessage(err)}, nil
	}
	var prev namespaceState
	if len(job.State) > 0 {
		_ = json.Unmarshal(job.State, &prev)
	}
	state, _ := json.Marshal(namespaceState{DeploymentManagerID: p.DeploymentManagerID, Namespace: p.Namespace})
	// A changed namespace or cluster: the old namespace goes first.
	if prev.Namespace != "" && (prev.Namespace != p.Namespace || prev.DeploymentManagerID != p.DeploymentManagerID) {
		gone, msg, err := n.remove(ctx, job.RequestID, prev)
		if err != nil {
			return Progress{}, err
		}
		if !gone {
			return Progress{Phase: Progressing, Message: msg, RetryAfter: time.Second, State: job.State}, nil
		}
	}
	c, err := n.client(ctx, p.DeploymentManagerID)
	if err != nil {
		return Progress{}, err
	}
	nsName := "namespace/" + p.Namespace
	cur, err := c.CoreV1().Namespaces().Get(ctx, p.Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return Progress{}, fmt.Errorf("read namespace %s: %w", p.Namespace, err)
	case cur.Labels[LabelRequest] != job.RequestID:
		return Progress{Phase: Failed, Message: fmt.Sprintf("namespace %s exists already and was not created by this provisioning request", p.Namespace),
			Resources: []Resource{{Name: nsName, Phase: ResourceFailed, Message: "exists already"}}, State: job.State}, nil
	case cur.DeletionTimestamp != nil:
		return Progress{Phase: Progressing, Message: fmt.Sprintf("namespace %s is still being deleted; waiting to create it again", p.Namespace),
			Resources: []Resource{{Name: nsName, Phase: ResourceProcessing}}, RetryAfter: time.Second, State: state}, nil
	}
	labels := maps.Clone(p.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelRequest] = job.RequestID
	force := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if _, err := c.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(p.Namespace).WithLabels(labels), force); err != nil {
		return n.failure(err, "apply namespace "+p.Namespace, state)
	}
	resources := []Resource{{Name: nsName, Phase: ResourceProvisioned}}
	quotas := c.CoreV1().ResourceQuotas(p.Namespace)
	if q := p.Quota; q != nil && (q.CPU != "" || q.Memory != "" || q.Pods != nil) {
		hard := corev1.ResourceList{}
		if q.CPU != "" {
			hard[corev1.ResourceRequestsCPU] = resource.MustParse(q.CPU)
		}
		if q.Memory != "" {
			hard[corev1.ResourceRequestsMemory] = resource.MustParse(q.Memory)
		}
		if q.Pods != nil {
			hard[corev1.ResourcePods] = *resource.NewQuantity(*q.Pods, resource.DecimalSI)
		}
		ac := corev1ac.ResourceQuota(QuotaName, p.Namespace).
			WithLabels(map[string]string{LabelRequest: job.RequestID}).
			WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
		if _, err := quotas.Apply(ctx, ac, force); err != nil {
			return n.failure(err, "apply the namespace's ResourceQuota", state)
		}
		resources = append(resources, Resource{Name: "resourcequota/" + p.Namespace + "/" + QuotaName, Phase: ResourceProvisioned})
	} else if err := quotas.Delete(ctx, QuotaName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return n.failure(err, "remove the namespace's ResourceQuota", state)
	}
	return Progress{Phase: Fulfilled, Message: fmt.Sprintf("namespace %s is in place", p.Namespace), Resources: resources, State: state}, nil
}

// failure makes an API error permanent when retrying cannot help (the
// cluster refuses the object) and transient otherwise.
func (n *NamespaceRealizer) failure(err error, what string, state json.RawMessage) (Progress, error) {
	if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) {
		return Progress{Phase: Failed, Message: fmt.Sprintf("the cluster refused to %s: %s", what, apiMessage(err)), State: state}, nil
	}
	return Progress{}, fmt.Errorf("%s: %w", what, err)
}

func apiMessage(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Message
	}
	return err.Error()
}

// Delete deletes the request's namespace (with everything in it) and
// reports Deleted once it is gone.
func (n *NamespaceRealizer) Delete(ctx context.Context, job Job) (Progress, error) {
	p, err := parseNamespaceParams(job.Parameters)
	if err != nil {
		return Progress{Phase: Failed, Message: ims.ErrorMessage(err)}, nil
	}
	targets := []namespaceState{{DeploymentManagerID: p.DeploymentManagerID, Namespace: p.Namespace}}
	var prev namespaceState
	if len(job.State) > 0 && json.Unmarshal(job.State, &prev) == nil && prev.Namespace != "" && prev != targets[0] {
		targets = append(targets, prev)
	}
	var waiting []Resource
	msg := ""
	for _, t := range targets {
		gone, m, err := n.remove(ctx, job.RequestID, t)
		if err != nil {
			return Progress{}, err
		}
		if !gone {
			msg = m
			waiting = append(waiting, Resource{Name: "namespace/" + t.Namespace, Phase: ResourceProcessing, Message: m})
		}
	}
	if len(waiting) > 0 {
		return Progress{Phase: Progressing, Message: msg, Resources: waiting, RetryAfter: time.Second, State: job.State}, nil
	}
	return Progress{Phase: Deleted, Message: fmt.Sprintf("namespace %s is gone", p.Namespace), Resources: []Resource{}}, nil
}

// remove deletes a namespace the request created and reports whether it
// is gone; a namespace the request did not create is left alone.
func (n *NamespaceRealizer) remove(ctx context.Context, requestID string, t namespaceState) (bool, string, error) {
	c, err := n.client(ctx, t.DeploymentManagerID)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		// The cluster is no longer registered: nothing is left to reach.
		n.logger.WarnContext(ctx, "the cluster of a provisioned namespace is no longer registered", "request", requestID, "deploymentManager", t.DeploymentManagerID, "namespace", t.Namespace)
		return true, "", nil
	}
	if err != nil {
		return false, "", err
	}
	cur, err := c.CoreV1().Namespaces().Get(ctx, t.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("read namespace %s: %w", t.Namespace, err)
	}
	if cur.Labels[LabelRequest] != requestID {
		return true, "", nil
	}
	if cur.DeletionTimestamp == nil {
		err := c.CoreV1().Namespaces().Delete(ctx, t.Namespace, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return false, "", fmt.Errorf("delete namespace %s: %w", t.Namespace, err)
		}
	}
	return false, fmt.Sprintf("waiting for namespace %s to be gone", t.Namespace), nil
}
