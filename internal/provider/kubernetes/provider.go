// Package kubernetes is the inventory provider for Kubernetes clusters.
// Informers watch Nodes, Pods and StorageClasses; each Node becomes a
// resource, the nephoran.io/resource-pool node label groups nodes into
// resource pools, and the cluster itself is a deployment manager.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/tracing"
)

// DMSProfile names the O2dms profile of a cluster's deployment manager:
// the Kubernetes-native API.
const DMSProfile = "k8s"

// ProviderType is the kind of provider, in the extensions.provider of the
// inventory objects it reports (extensions.providerName is its name).
const ProviderType = "kubernetes"

// PoolLabel assigns a node to a resource pool.
const PoolLabel = "nephoran.io/resource-pool"

// SiteLabel puts the pool of the nodes that share it in the O-Cloud site
// of that name, which LocationLabel (when they share it too) places at a
// location (its globalLocationId). Pools without it are in the provider's
// default site.
const (
	SiteLabel     = "nephoran.io/site"
	LocationLabel = "nephoran.io/global-location-id"
)

// The well-known node labels that give a pool its region and zone when all
// of its nodes share them.
const (
	RegionLabel = "topology.kubernetes.io/region"
	ZoneLabel   = "topology.kubernetes.io/zone"
)

// Options configure one cluster.
type Options struct {
	// Name is the provider's name, unique in this IMS.
	Name string
	// Kubeconfig is a kubeconfig document; KubeconfigPath names a file
	// instead. With neither, the in-cluster configuration is used.
	Kubeconfig     []byte
	KubeconfigPath string
	// Context selects a kubeconfig context; empty means the current one.
	Context string
	// SelfContained refuses a Kubeconfig that runs programs (exec,
	// auth-provider plugins) or reads files (certificate-authority,
	// client-certificate, client-key, tokenFile): one sent through the API
	// must carry its credentials inline.
	SelfContained bool
	// RefreshInterval is how often the cluster is checked and the
	// inventory recomputed besides watch events (default 5s).
	RefreshInterval time.Duration
	// RequestTimeout bounds each API request (default 5s).
	RequestTimeout time.Duration
	// RESTConfig, when set, is used as is (tests).
	RESTConfig *rest.Config
}

// Provider publishes one cluster's inventory.
type Provider struct {
	opts   Options
	logger *slog.Logger
	config *rest.Config
	client kubernetes.Interface

	startOnce sync.Once
	stop      context.CancelFunc
	nodes     listersv1.NodeLister
	pods      listersv1.PodLister
	classes   storagelisters.StorageClassLister
	synced    []cache.InformerSynced
	changed   atomic.Pointer[func()]

	mu           sync.Mutex
	clusterID    string
	cni          string
	cniCheckedAt time.Time
}

// RESTConfigFor builds the client configuration of opts without contacting
// the cluster, so that a bad kubeconfig is reported at registration.
func RESTConfigFor(opts Options) (*rest.Config, error) {
	cfg, err := restConfig(opts)
	if err != nil {
		return nil, err
	}
	// Every call to the cluster is a client span carrying traceparent.
	cfg.Wrap(tracing.Transport)
	return cfg, nil
}

func restConfig(opts Options) (*rest.Config, error) {
	if opts.RESTConfig != nil {
		return rest.CopyConfig(opts.RESTConfig), nil
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	switch {
	case len(opts.Kubeconfig) > 0:
		raw, err := clientcmd.Load(opts.Kubeconfig)
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "kubeconfig: not a kubeconfig document (YAML or JSON with clusters, users and contexts)")
		}
		if opts.SelfContained {
			if err := selfContained(raw); err != nil {
				return nil, err
			}
		}
		if opts.Context != "" {
			if _, ok := raw.Contexts[opts.Context]; !ok {
				return nil, ims.Errorf(ims.EINVALID, "kubeconfig has no context %q", opts.Context)
			}
		}
		cfg, err := clientcmd.NewDefaultClientConfig(*raw, overrides).ClientConfig()
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "kubeconfig: %v", err)
		}
		return cfg, nil
	case opts.KubeconfigPath != "":
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: opts.KubeconfigPath}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "kubeconfig %s: %v", opts.KubeconfigPath, err)
		}
		return cfg, nil
	default:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "no kubeconfig given and not running in a cluster: %v", err)
		}
		return cfg, nil
	}
}

// selfContained tells why the kubeconfig reaches beyond itself, if it
// does.
func selfContained(c *clientcmdapi.Config) error {
	const hint = "; a kubeconfig registered through the API carries its credentials inline (certificate-authority-data, client-certificate-data, client-key-data, token); one that runs programs or reads files belongs in the configuration file"
	for _, name := range slices.Sorted(maps.Keys(c.Clusters)) {
		if cl := c.Clusters[name]; cl != nil && cl.CertificateAuthority != "" {
			return ims.Errorf(ims.EINVALID, "kubeconfig: cluster %q reads a file (certificate-authority)%s", name, hint)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.AuthInfos)) {
		a := c.AuthInfos[name]
		switch {
		case a == nil:
		case a.Exec != nil:
			return ims.Errorf(ims.EINVALID, "kubeconfig: user %q runs a program (exec)%s", name, hint)
		case a.AuthProvider != nil:
			return ims.Errorf(ims.EINVALID, "kubeconfig: user %q uses an auth-provider plugin%s", name, hint)
		case a.ClientCertificate != "" || a.ClientKey != "" || a.TokenFile != "":
			return ims.Errorf(ims.EINVALID, "kubeconfig: user %q reads a file (client-certificate, client-key or tokenFile)%s", name, hint)
		}
	}
	return nil
}

// New returns a provider for the cluster; it connects lazily.
func New(opts Options, logger *slog.Logger) (*Provider, error) {
	if opts.Name == "" {
		return nil, ims.Errorf(ims.EINVALID, "a provider name is required")
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = 5 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 5 * time.Second
	}
	cfg, err := RESTConfigFor(opts)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = opts.RequestTimeout
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "nephoran-o2ims"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, ims.Errorf(ims.EINVALID, "kubernetes client: %v", err)
	}
	return &Provider{opts: opts, logger: logger, config: cfg, client: client}, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opts.Name }

// RefreshInterval is how often Discover runs besides watch events.
func (p *Provider) RefreshInterval() time.Duration { return p.opts.RefreshInterval }

// RESTConfig returns a copy of the cluster's client configuration, for
// deploying workloads onto it.
func (p *Provider) RESTConfig() *rest.Config { return rest.CopyConfig(p.config) }

// ServerURL is the cluster's API server URL.
func (p *Provider) ServerURL() string { return p.config.Host }

// caPEM is the cluster's CA certificate bundle, PEM encoded, or "".
func (p *Provider) caPEM() string {
	if len(p.config.CAData) > 0 {
		return string(p.config.CAData)
	}
	if p.config.CAFile != "" {
		if b, err := os.ReadFile(p.config.CAFile); err == nil {
			return string(b)
		}
	}
	return ""
}

// DMSCredentials are the O2dms Kubernetes-native profile's credentials of
// the cluster: those the IMS itself uses. They are never stored with the
// inventory; the API shows them only to callers allowed to see them.
func (p *Provider) DMSCredentials() map[string]any {
	read := func(data []byte, file string) string {
		if len(data) > 0 {
			return string(data)
		}
		if file != "" {
			if b, err := os.ReadFile(file); err == nil {
				return string(b)
			}
		}
		return ""
	}
	c := p.config
	out := map[string]any{
		"admin_user":        c.Username,
		"admin_client_cert": read(c.CertData, c.CertFile),
		"admin_client_key":  read(c.KeyData, c.KeyFile),
	}
	if tok := read([]byte(c.BearerToken), c.BearerTokenFile); tok != "" {
		out["admin_token"] = tok
	}
	if c.Password != "" {
		out["admin_password"] = c.Password
	}
	return out
}

// start runs the informers until Close.
func (p *Provider) start() {
	p.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		p.stop = cancel
		f := informers.NewSharedInformerFactory(p.client, 0)
		nodeInf := f.Core().V1().Nodes()
		// Only pods bound to a node and not finished use capacity.
		podFactory := informers.NewSharedInformerFactoryWithOptions(p.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.AndSelectors(
				fields.OneTermNotEqualSelector("spec.nodeName", ""),
				fields.OneTermNotEqualSelector("status.phase", string(corev1.PodSucceeded)),
				fields.OneTermNotEqualSelector("status.phase", string(corev1.PodFailed)),
			).String()
		}))
		podInf := podFactory.Core().V1().Pods()
		scInf := f.Storage().V1().StorageClasses()
		// Node heartbeats update every node every few seconds without
		// changing anything the inventory publishes; only updates that do
		// change it trigger a sync.
		handler := func(relevant func(old, cur any) bool) cache.ResourceEventHandlerFuncs {
			return cache.ResourceEventHandlerFuncs{
				AddFunc: func(any) { p.notify() },
				UpdateFunc: func(old, cur any) {
					if relevant(old, cur) {
						p.notify()
					}
				},
				DeleteFunc: func(any) { p.notify() },
			}
		}
		always := func(any, any) bool { return true }
		for _, h := range []struct {
			inf      cache.SharedIndexInformer
			relevant func(old, cur any) bool
		}{{nodeInf.Informer(), nodeChanged}, {podInf.Informer(), podChanged}, {scInf.Informer(), always}} {
			if _, err := h.inf.AddEventHandler(handler(h.relevant)); err != nil {
				p.logger.Warn("adding event handler", "err", err)
			}
			p.synced = append(p.synced, h.inf.HasSynced)
		}
		p.nodes, p.pods, p.classes = nodeInf.Lister(), podInf.Lister(), scInf.Lister()
		f.Start(ctx.Done())
		podFactory.Start(ctx.Done())
	})
}

func (p *Provider) notify() {
	if fn := p.changed.Load(); fn != nil {
		(*fn)()
	}
}

// Watch makes every node, pod or storage class change call changed, until
// ctx ends.
func (p *Provider) Watch(ctx context.Context, changed func()) {
	p.changed.Store(&changed)
	p.start()
	<-ctx.Done()
	p.changed.Store(nil)
}

// Close stops the informers.
func (p *Provider) Close() error {
	// A provider never started gets a no-op stop and will not start later.
	p.startOnce.Do(func() { p.stop = func() {} })
	p.stop()
	return nil
}

// Health checks that the API server answers.
func (p *Provider) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.RequestTimeout)
	defer cancel()
	res := p.client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx)
	if err := res.Error(); err != nil {
		return fmt.Errorf("cluster %s at %s: %w", p.opts.Name, p.config.Host, err)
	}
	return nil
}

// id derives a stable identifier within the cluster from a natural key.
func (p *Provider) id(key string) string {
	return uuid.NewSHA1(namespace, []byte(p.clusterID+"/"+key)).String()
}

var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:provider:kubernetes"))

// identify reads the cluster identity: the UID of the kube-system
// namespace, which lives as long as the cluster.
func (p *Provider) identify(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clusterID != "" {
		return nil
	}
	ns, err := p.client.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read cluster identity: %w", err)
	}
	p.clusterID = string(ns.UID)
	return nil
}

// waitSynced waits for the informer caches after start.
func (p *Provider) waitSynced(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), p.synced...) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cluster %s: caches not synced: %w", p.opts.Name, err)
		}
		return errors.New("caches not synced")
	}
	return nil
}

// nodeChanged reports whether an update changes what the inventory
// publishes of a node (not its heartbeat timestamps).
func nodeChanged(old, cur any) bool {
	a, ok1 := old.(*corev1.Node)
	b, ok2 := cur.(*corev1.Node)
	if !ok1 || !ok2 {
		return true
	}
	if !maps.Equal(a.Labels, b.Labels) || a.Spec.Unschedulable != b.Spec.Unschedulable || a.Spec.ProviderID != b.Spec.ProviderID ||
		a.Status.NodeInfo != b.Status.NodeInfo || !equalResources(a.Status.Capacity, b.Status.Capacity) ||
		!equalResources(a.Status.Allocatable, b.Status.Allocatable) || len(a.Status.Addresses) != len(b.Status.Addresses) ||
		len(a.Status.Conditions) != len(b.Status.Conditions) {
		return true
	}
	for i := range a.Status.Addresses {
		if a.Status.Addresses[i] != b.Status.Addresses[i] {
			return true
		}
	}
	for i := range a.Status.Conditions {
		ca, cb := a.Status.Conditions[i], b.Status.Conditions[i]
		if ca.Type != cb.Type || ca.Status != cb.Status || ca.Reason != cb.Reason {
			return true
		}
	}
	return false
}

func equalResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

// podChanged reports whether an update changes a pod's placement or phase,
// the only things utilization depends on (requests are immutable).
func podChanged(old, cur any) bool {
	a, ok1 := old.(*corev1.Pod)
	b, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 {
		return true
	}
	return a.Spec.NodeName != b.Spec.NodeName || a.Status.Phase != b.Status.Phase
}
