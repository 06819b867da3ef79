package controller

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/deploy/crds"
	"github.com/nephoran/o2ims/internal/intent"
	nephv1 "github.com/nephoran/o2ims/pkg/apis/nephoran/v1"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// Options configure Run.
type Options struct {
	// Kube is the configuration of the cluster whose intents are watched.
	Kube *rest.Config
	// IMS is the client of the O2 IMS the deployments are made on.
	IMS *o2.Client
	// UseAdvisor plans new deployments with the IMS's advisor.
	UseAdvisor bool
	// CatalogFile, or CatalogConfigMap ("namespace/name", key
	// catalog.yaml), is the catalog of CNF packages; neither selects the
	// default catalog (each function's package has its name as VNFD id).
	CatalogFile      string
	CatalogConfigMap string
	// Namespace, when set, is the only namespace watched.
	Namespace string
	// InstallCRDs applies the NetworkIntent CRD before starting.
	InstallCRDs bool
	// MetricsAddr and ProbeAddr are the listen addresses of the
	// controller's metrics and of its /healthz and /readyz; "0" or empty
	// turns them off.
	MetricsAddr, ProbeAddr string
	// LeaderElection lets one of several replicas reconcile, with a Lease
	// in LeaderElectionNamespace.
	LeaderElection          bool
	LeaderElectionNamespace string
	// Workers is the number of intents reconciled at once (default 4).
	Workers int
	// Poll and Resync: see Reconciler (defaults 2s and 30s).
	Poll, Resync time.Duration
	Logger       *slog.Logger
}

// Run runs the controller until ctx ends.
func Run(ctx context.Context, opts Options) error {
	if opts.Kube == nil || opts.IMS == nil {
		return fmt.Errorf("controller: a Kubernetes configuration and an O2 IMS client are required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, nephv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return fmt.Errorf("controller: %w", err)
		}
	}
	if opts.InstallCRDs {
		if err := InstallCRDs(ctx, opts.Kube, scheme, logger); err != nil {
			return err
		}
	}
	mopts := ctrl.Options{
		Scheme:                  scheme,
		Logger:                  logr.FromSlogHandler(logger.Handler()),
		Metrics:                 metricsserver.Options{BindAddress: addrOrOff(opts.MetricsAddr)},
		HealthProbeBindAddress:  addrOrOff(opts.ProbeAddr),
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        "o2ims-controller.nephoran.com",
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
	}
	if opts.Namespace != "" {
		mopts.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{opts.Namespace: {}}}
	}
	mgr, err := ctrl.NewManager(opts.Kube, mopts)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	if opts.ProbeAddr != "" && opts.ProbeAddr != "0" {
		if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
			return fmt.Errorf("controller: %w", err)
		}
		if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
			return fmt.Errorf("controller: %w", err)
		}
	}
	var catalog CatalogSource = fileCatalog(opts.CatalogFile)
	if opts.CatalogConfigMap != "" {
		ns, name, ok := strings.Cut(opts.CatalogConfigMap, "/")
		if !ok || ns == "" || name == "" {
			return fmt.Errorf("controller: the catalog ConfigMap %q is not namespace/name", opts.CatalogConfigMap)
		}
		catalog = configMapCatalog{reader: mgr.GetAPIReader(), key: types.NamespacedName{Namespace: ns, Name: name}}
	}
	r := &Reconciler{
		Client:      mgr.GetClient(),
		Deployments: opts.IMS.Deployments(),
		Catalog:     catalog,
		Recorder:    mgr.GetEventRecorder("o2ims-controller"),
		Logger:      logger,
		Poll:        opts.Poll,
		Resync:      opts.Resync,
	}
	if opts.UseAdvisor {
		r.Advisor = opts.IMS.Advisor()
	}
	err = ctrl.NewControllerManagedBy(mgr).
		For(&nephv1.NetworkIntent{}).
		Named("networkintent").
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.Workers}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	logger.Info("NetworkIntent controller starting", "ims", opts.IMS.Endpoint(), "namespace", opts.Namespace, "advisor", opts.UseAdvisor)
	return mgr.Start(ctx)
}

func addrOrOff(a string) string {
	if a == "" {
		return "0"
	}
	return a
}

// InstallCRDs creates or updates the CRDs of the nephoran.com group and
// waits until the API server serves them.
func InstallCRDs(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, logger *slog.Logger) error {
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("installing CRDs: %w", err)
	}
	files, err := fs.Glob(crds.FS, "*.yaml")
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := crds.FS.ReadFile(f)
		if err != nil {
			return err
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return fmt.Errorf("installing CRDs: %s: %w", f, err)
		}
		name := u.GetName()
		// Server-side apply: the fields this controller owns are set, others'
		// (labels, a cluster's own conversion settings) are kept.
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(&u), client.FieldOwner("o2ims-controller"), client.ForceOwnership); err != nil {
			return fmt.Errorf("installing CRD %s: %w", name, err)
		}
		var cur apiextensionsv1.CustomResourceDefinition
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &cur); err != nil {
				return false, nil
			}
			for _, cond := range cur.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s is not established: %w", name, err)
		}
		logger.Info("CRD installed", "crd", name)
	}
	return nil
}

// fileCatalog reads the catalog file at each reconciliation; an empty
// path is the default catalog.
type fileCatalog string

func (f fileCatalog) Catalog(context.Context) (intent.Catalog, error) {
	return intent.LoadCatalog(string(f))
}

// configMapCatalog reads the catalog from the key catalog.yaml of a
// ConfigMap.
type configMapCatalog struct {
	reader client.Reader
	key    types.NamespacedName
}

func (c configMapCatalog) Catalog(ctx context.Context) (intent.Catalog, error) {
	var cm corev1.ConfigMap
	if err := c.reader.Get(ctx, c.key, &cm); err != nil {
		return nil, fmt.Errorf("catalog ConfigMap %s: %w", c.key, err)
	}
	b, ok := cm.Data["catalog.yaml"]
	if !ok {
		return nil, fmt.Errorf("catalog ConfigMap %s has no key catalog.yaml", c.key)
	}
	cat, err := intent.ParseCatalog([]byte(b))
	if err != nil {
		return nil, fmt.Errorf("catalog ConfigMap %s: %w", c.key, err)
	}
	return cat, nil
}
