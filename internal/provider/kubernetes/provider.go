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

	"github.com/nephoran/o2ims/internal/ims"
)

// PoolLabel assigns a node to a resource pool.
const PoolLabel = "nephoran.io/resource-pool"

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

	mu        sync.Mutex
	clusterID string
}

// RESTConfigFor builds the client configuration of opts without contacting
// the cluster, so that a bad kubeconfig is reported at registration.
func RESTConfigFor(opts Options) (*rest.Config, error) {
	if opts.RESTConfig != nil {
		return rest.CopyConfig(opts.RESTConfig), nil
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	switch {
	case len(opts.Kubeconfig) > 0:
		raw, err := clientcmd.Load(opts.Kubeconfig)
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "kubeconfig: %v", err)
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

// ServerURL is the cluster's API server URL.
func (p *Provider) ServerURL() string { return p.config.Host }

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
		handler := cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { p.notify() },
			UpdateFunc: func(any, any) { p.notify() },
			DeleteFunc: func(any) { p.notify() },
		}
		for _, inf := range []cache.SharedIndexInformer{nodeInf.Informer(), podInf.Informer(), scInf.Informer()} {
			if _, err := inf.AddEventHandler(handler); err != nil {
				p.logger.Warn("adding event handler", "err", err)
			}
			p.synced = append(p.synced, inf.HasSynced)
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
