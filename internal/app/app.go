// Package app assembles the O2 IMS server from validated options and runs
// it. The command line only turns flags, environment and the config file
// into Options, so tests can run the whole server in-process.
package app

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/oauth2/clientcredentials"
	"k8s.io/client-go/rest"

	"github.com/nephoran/o2ims/api/openapi"
	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/dispatch"
	"github.com/nephoran/o2ims/internal/eventstream"
	"github.com/nephoran/o2ims/internal/gitops"
	"github.com/nephoran/o2ims/internal/httpapi"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/intent"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/provider"
	awsprovider "github.com/nephoran/o2ims/internal/provider/aws"
	azureprovider "github.com/nephoran/o2ims/internal/provider/azure"
	gitopsprovider "github.com/nephoran/o2ims/internal/provider/gitops"
	"github.com/nephoran/o2ims/internal/provider/kubernetes"
	"github.com/nephoran/o2ims/internal/provider/local"
	porchprovider "github.com/nephoran/o2ims/internal/provider/porch"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/ratelimit"
	"github.com/nephoran/o2ims/internal/report"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/subscription"
	"github.com/nephoran/o2ims/internal/tlsconfig"
	"github.com/nephoran/o2ims/internal/tracing"
)

// Options is the complete, validated configuration of a server.
type Options struct {
	// Listen is the TCP address to serve on, e.g. "127.0.0.1:8080".
	Listen string
	// Database selects SQLite (empty URL, file in DataDir) or PostgreSQL.
	Database sqlstore.Options
	Cloud    inventory.CloudConfig
	// LocalProvider publishes the host the server runs on.
	LocalProvider bool
	Local         local.Options
	// Place is the O-Cloud's default location (the local host's site is
	// there); an empty globalLocationId is "default", and a location
	// without coordinate, civic address or address gets the host's name
	// as its address.
	Place inventory.Place
	// Locations and OCloudSites are the places the configuration file
	// defines; the admin API adds others.
	Locations       []ims.Location
	OCloudSites     []ims.OCloudSite
	RefreshInterval time.Duration
	ShutdownTimeout time.Duration
	Logger          *slog.Logger

	// Notifications.
	CallbackPolicy      notify.Policy
	NotificationMaxAge  time.Duration // default 24h
	NotificationTimeout time.Duration // per attempt, default 10s
	Dispatch            dispatch.Options

	// UtilizationThreshold raises O2IMSResourcePoolUtilization above it (default 0.9).
	UtilizationThreshold float64

	// Security. Auth nil disables authentication, which is allowed only on
	// a loopback address unless InsecureAllowUnauthenticated is set.
	Auth                         *auth.Options
	InsecureAllowUnauthenticated bool
	PublicPaths                  []string
	TLS                          *tlsconfig.Options
	RateLimit                    ratelimit.Options
	MaxBodyBytes                 int64
	// AccessLogLevel is the level of the per-request log line (see
	// httpapi.Options.AccessLogLevel).
	AccessLogLevel slog.Level
	// CNFOperationTimeout bounds waiting for deployed workloads (default 5m).
	CNFOperationTimeout time.Duration
	// Deployments: reservation lifetime and default, reconcile period.
	// Placement refuses pools at or above UtilizationThreshold.
	Deployments deployment.Options
	// AdvisorCatalog and AdvisorPrices name YAML files of the advisor's
	// network function catalog and price table (empty: the defaults).
	AdvisorCatalog, AdvisorPrices string
	// AdvisorModel, when its Endpoint is set, is an OpenAI-compatible
	// model the advisor asks first (its plans are validated).
	AdvisorModel advisor.ModelOptions
	// A1, when its Endpoint is set, keeps a Near-RT RIC's A1 policies in
	// step with the deployments.
	A1 A1Options

	// Providers from the configuration file.
	Providers []ProviderConfig
	// Azure, zero in production, is the transport and credential every
	// azure provider uses (tests put the Azure SDK's fakes there).
	Azure azureprovider.Connection
	// GitOps configures deliveries through git, and the local GitOps
	// repository of the embedded default.
	GitOps GitOpsOptions
	// SecretsKey (32 bytes) encrypts provider credentials registered
	// through the API; without it only kubeconfig files of
	// ProviderCredentialsDir can be registered.
	SecretsKey []byte
	// TombstoneRetention is how long the change feeds keep deletions
	// (default 7 days); a changedSince stamp from before the oldest kept
	// one is answered 410.
	TombstoneRetention time.Duration
	// Tracing exports OpenTelemetry traces to an OTLP collector (or the
	// OTEL_EXPORTER_OTLP_* environment's); without either only the W3C
	// trace context is propagated.
	Tracing tracing.Options

	// EventStream, when set, publishes every outbox event to NATS
	// JetStream (its URL and stream; the server fills in the rest).
	EventStream *eventstream.Options

	// KnowledgeWebhook, when set, receives an inventory notification for
	// every change of a resource pool or deployment (the documents the RAG
	// feeds index), as a subscription the server keeps; unset, that
	// subscription is removed.
	KnowledgeWebhook string
	// DebugListen, when set, is a loopback address serving
	// /debug/pprof/ and /debug/vars (expvar), without authentication.
	DebugListen string
	// ExposeDMSCredentials lets callers holding the scope
	// o2ims:dms-credentials read a cluster's credentials in its deployment
	// manager's O2dms profile (extensions.profileData); it needs Auth.
	ExposeDMSCredentials bool
	// ProviderCredentialsDir, when set, is the directory whose files a
	// provider registered through the API may name as kubeconfigPath (by
	// a name relative to it); without it the API takes no file names.
	ProviderCredentialsDir string

	// Agent configures the listener edge-node agents enrol and heartbeat
	// on; off when its Listen is empty.
	Agent AgentOptions

	// Provisioning configures provisioning requests and their templates.
	Provisioning ProvisioningOptions

	// Outgoing notifications: client TLS (certificate, roots) and OAuth2.
	NotifyTLS    *tls.Config
	NotifyOAuth2 *clientcredentials.Config
}

// A1Options configure the A1 policy sync with a Near-RT RIC.
type A1Options struct {
	// Endpoint is the RIC's A1-P base URL (without /A1-P/v2); empty
	// disables the sync.
	Endpoint     string
	SyncInterval time.Duration
	// PolicyTypes maps the templates (qos-optimization, traffic-steering,
	// recovery) to the RIC's policy type ids; nil uses the template names.
	PolicyTypes map[string]string
	// Reports, with an ICS endpoint or targets, delivers the resource
	// report to RIC-side consumers every report interval.
	Reports A1ReportOptions
}

// ProviderConfig is a provider defined in the configuration file: a
// Kubernetes cluster (kubeconfigPath, context), a GitOps repository
// (repository, branch, directory, username, passwordFile, targetCluster)
// or an AWS region (region, vpc, instance_types, tags, capacity,
// endpoint, and credentialsFile with profile, else the SDK's default
// credential chain) or an Azure resource group (subscriptionId, tenantId,
// clientId, clientSecretFile, resourceGroup, location, networking,
// vmSizes, tags, capacity, cloud).
type ProviderConfig struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	KubeconfigPath string `json:"kubeconfigPath,omitempty"`
	Context        string `json:"context,omitempty"`
	Repository     string `json:"repository,omitempty"`
	Branch         string `json:"branch,omitempty"`
	Directory      string `json:"directory,omitempty"`
	Username       string `json:"username,omitempty"`
	// PasswordFile holds the password or token of Username.
	PasswordFile  string `json:"passwordFile,omitempty"`
	TargetCluster string `json:"targetCluster,omitempty"`

	// AWS, with the keys of a registration through the API but for the
	// credentials: a shared credentials file (CredentialsFile, its
	// Profile or "default"), a Profile of the default shared files, or
	// the SDK's default chain (environment, web identity, instance role).
	Region          string                     `json:"region,omitempty"`
	Endpoint        string                     `json:"endpoint,omitempty"`
	VPC             *provider.AWSVPC           `json:"vpc,omitempty"`
	InstanceTypes   *provider.AWSInstanceTypes `json:"instance_types,omitempty"`
	Tags            *provider.AWSTags          `json:"tags,omitempty"`
	Capacity        *provider.AWSCapacity      `json:"capacity,omitempty"`
	CredentialsFile string                     `json:"credentialsFile,omitempty"`
	Profile         string                     `json:"profile,omitempty"`

	// Azure, with the keys of a registration through the API (tags and
	// capacity as above); the client secret may come from
	// clientSecretFile instead.
	SubscriptionID   string                    `json:"subscriptionId,omitempty"`
	TenantID         string                    `json:"tenantId,omitempty"`
	ClientID         string                    `json:"clientId,omitempty"`
	ClientSecretFile string                    `json:"clientSecretFile,omitempty"`
	ResourceGroup    string                    `json:"resourceGroup,omitempty"`
	Location         string                    `json:"location,omitempty"`
	Cloud            string                    `json:"cloud,omitempty"`
	Networking       *provider.AzureNetworking `json:"networking,omitempty"`
	VMSizes          *provider.AzureVMSizes    `json:"vmSizes,omitempty"`
}

// App is a running server.
type App struct {
	opts     Options
	logger   *slog.Logger
	store    *sqlstore.Store
	listener net.Listener
	http     *http.Server
	// debugListener and debugHTTP serve pprof and expvar, when enabled.
	debugListener net.Listener
	debugHTTP     *http.Server
	syncer        *inventory.Syncer
	registry      *prometheus.Registry
	dispatch      *dispatch.Dispatcher
	events        *eventstream.Publisher
	stopTracing   func(context.Context) error
	alarms        *alarms.Service
	tls           *tlsconfig.Reloader
	lcm           *lcm.Service
	deploy        *deployment.Service
	provisioning  *provisioning.Service
	a1            *a1.Syncer   // nil without an A1 endpoint
	a1reports     *a1Reporter  // nil without an ICS endpoint or report targets
	agent         *agentServer // nil without an agent listener
}

// New opens and migrates the store, builds every component and binds the
// listener; Run serves.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Logger == nil {
		return nil, errors.New("app: a logger is required")
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = time.Minute
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	logger := opts.Logger
	if err := checkExposure(opts); err != nil {
		return nil, err
	}
	if opts.Auth == nil {
		logger.Warn("authentication is disabled: every client may read and change everything", "listen", opts.Listen)
	}
	if opts.ExposeDMSCredentials && opts.Auth == nil {
		return nil, fmt.Errorf("exposing deployment manager credentials needs authentication (a token with the scope %s reads them)", auth.PermissionDMSCredentials)
	}
	var authenticator httpapi.Authenticator
	if opts.Auth != nil {
		a, err := auth.New(ctx, *opts.Auth, logger.With("component", "auth"))
		if err != nil {
			return nil, fmt.Errorf("authentication: %w", err)
		}
		authenticator = a
	}
	var reloader *tlsconfig.Reloader
	if opts.TLS != nil {
		r, err := tlsconfig.New(*opts.TLS, logger.With("component", "tls"))
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		reloader = r
	}
	var limiter *ratelimit.Limiter
	if opts.RateLimit.RequestsPerSecond > 0 {
		limiter = ratelimit.New(opts.RateLimit)
	}
	stopTracing, err := tracing.Setup(ctx, opts.Tracing)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	// Bind first: with port 0 the service URI learns the port the
	// server really serves on, before notifications name it.
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	bound := false
	defer func() {
		if !bound {
			ln.Close()
		}
	}()
	opts.Cloud.ServiceURI = boundURI(opts.Cloud.ServiceURI, ln.Addr())
	store, err := sqlstore.Open(ctx, opts.Database, logger)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	if _, err := store.OCloudID(ctx); err != nil {
		store.Close()
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Notifications: the outbox dispatcher delivers to subscribers.
	matchers := subscription.NewMatchers()
	webhook := notify.NewWebhook(notify.WebhookOptions{Policy: opts.CallbackPolicy, Timeout: opts.NotificationTimeout, TLS: opts.NotifyTLS, OAuth2: opts.NotifyOAuth2})
	notifier := subscription.NewNotifier(matchers, webhook, opts.Cloud.ServiceURI, opts.Cloud.GlobalCloudID)
	dopts := opts.Dispatch
	dopts.MaxAge = opts.NotificationMaxAge
	dopts.Registerer = reg
	dispatcher, err := dispatch.New(store, notifier, dopts, logger.With("component", "dispatch"))
	if err != nil {
		store.Close()
		return nil, err
	}
	publisher, err := newEventStream(ctx, opts.EventStream, opts.Cloud.ServiceURI, store, notifier, reg, logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	// wake tells the outbox's readers of a commit.
	wake := dispatcher.Wake
	if publisher != nil {
		wake = func() { dispatcher.Wake(); publisher.Wake() }
	}
	subs := subscription.NewService(store, opts.CallbackPolicy, matchers, logger)
	if opts.KnowledgeWebhook != "" {
		// The knowledge documents of the RAG feeds (pools and
		// deployments) pushed as they change, through the durable outbox.
		id, err := subs.Ensure(ctx, subscription.Inventory, subscription.Input{
			ConsumerSubscriptionID: KnowledgeWebhookConsumer, Callback: opts.KnowledgeWebhook, Filter: "(in,objectType,ResourcePool,Deployment)",
		})
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("knowledge webhook: %w", err)
		}
		logger.Info("knowledge webhook subscribed", "subscription", id)
	} else if err := subs.RemoveConsumer(ctx, subscription.Inventory, KnowledgeWebhookConsumer); err != nil {
		store.Close()
		return nil, fmt.Errorf("knowledge webhook: %w", err)
	}

	// Alarms; every alarm change wakes the dispatcher.
	alarmSvc := alarms.NewService(wakingStore{Store: store, wake: wake}, logger.With("component", "alarms"))
	raisers := alarms.NewRaisers(alarmSvc, store, opts.UtilizationThreshold, logger.With("component", "alarms"))

	syncer := inventory.NewSyncer(store, nil, opts.RefreshInterval, logger, waker{wake}, raisers)
	if err := syncer.PublishBuiltin(ctx, defaultPlace(opts.Place, opts.Cloud.Name)); err != nil {
		store.Close()
		return nil, fmt.Errorf("publishing the O-Cloud's own inventory: %w", err)
	}
	if err := syncer.PublishConfig(ctx, opts.Locations, opts.OCloudSites); err != nil {
		store.Close()
		return nil, fmt.Errorf("configuration: %w", err)
	}
	cloud := opts.Cloud
	if cloud.AlarmDictionary == nil {
		cloud.AlarmDictionary = &alarms.Dictionary
	}
	svc := inventory.NewService(store, cloud, logger)
	notifier.WithShaper(svc)
	svc.SetPlacesChanged(func() {
		// Pools show their site's location: sync them again.
		syncer.Refresh()
		wake()
	})
	reg.MustRegister(inventory.NewCollector(syncer, store))

	var box *secrets.Box
	if len(opts.SecretsKey) > 0 {
		if box, err = secrets.NewBox(opts.SecretsKey); err != nil {
			store.Close()
			return nil, err
		}
	}
	factories := map[string]provider.Factory{
		"kubernetes": func(name string, cfg provider.Config) (inventory.Provider, error) {
			k, err := kubernetes.New(kubernetes.Options{Name: name, Kubeconfig: []byte(cfg.Kubeconfig), KubeconfigPath: cfg.KubeconfigPath, Context: cfg.Context, SelfContained: cfg.SelfContained},
				logger.With("provider", name))
			if err != nil || cfg.Delivery != "gitops" {
				return k, err
			}
			return gitopsCluster(k, opts.GitOps, cfg, logger.With("provider", name))
		},
		gitopsprovider.ProviderType: gitopsFactory(opts.GitOps, logger),
		porchprovider.ProviderType:  porchFactory(logger),
		awsprovider.ProviderType:    awsFactory(logger),
		azureprovider.ProviderType:  azureFactory(opts.Azure, logger),
	}
	if dir := opts.ProviderCredentialsDir; dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			store.Close()
			return nil, fmt.Errorf("provider credentials directory %s: not a directory", dir)
		}
	}
	registry := provider.NewRegistry(store, syncer, factories, provider.Options{Box: box, CredentialsDir: opts.ProviderCredentialsDir}, logger.With("component", "providers"))
	if opts.LocalProvider {
		p := local.New(opts.Local, logger.With("provider", "local"))
		if err := registry.AddStatic(p, "local", provider.OriginBuiltin, ""); err != nil {
			store.Close()
			return nil, err
		}
	}
	for _, pc := range opts.Providers {
		f, ok := factories[pc.Type]
		if !ok {
			store.Close()
			return nil, fmt.Errorf("provider %q in the configuration: unknown type %q", pc.Name, pc.Type)
		}
		cfg := provider.Config{KubeconfigPath: pc.KubeconfigPath, Context: pc.Context, Repository: pc.Repository, Branch: pc.Branch,
			Directory: pc.Directory, Username: pc.Username, TargetCluster: pc.TargetCluster,
			Region: pc.Region, Endpoint: pc.Endpoint, VPC: pc.VPC, InstanceTypes: pc.InstanceTypes, Tags: pc.Tags, Capacity: pc.Capacity,
			CredentialsFile: pc.CredentialsFile, Profile: pc.Profile,
			SubscriptionID: pc.SubscriptionID, TenantID: pc.TenantID, ClientID: pc.ClientID, ResourceGroup: pc.ResourceGroup,
			Location: pc.Location, Cloud: pc.Cloud, Networking: pc.Networking, VMSizes: pc.VMSizes}
		var err error
		if pc.PasswordFile != "" {
			b, rerr := os.ReadFile(pc.PasswordFile)
			if rerr != nil {
				store.Close()
				return nil, fmt.Errorf("provider %q in the configuration: passwordFile: %w", pc.Name, rerr)
			}
			cfg.Password = strings.TrimSpace(string(b))
		}
		if pc.ClientSecretFile != "" {
			b, rerr := os.ReadFile(pc.ClientSecretFile)
			if rerr != nil {
				store.Close()
				return nil, fmt.Errorf("provider %q in the configuration: clientSecretFile: %w", pc.Name, rerr)
			}
			cfg.ClientSecret = strings.TrimSpace(string(b))
		}
		p, err := f(pc.Name, cfg)
		if err == nil {
			endpoint := ""
			if e, ok := p.(interface{ ServerURL() string }); ok {
				endpoint = e.ServerURL()
			}
			err = registry.AddStatic(p, pc.Type, provider.OriginConfig, endpoint)
		}
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("provider %q in the configuration: %w", pc.Name, err)
		}
	}
	gitRepos := map[string]*gitops.Repository{}
	if opts.GitOps.Local {
		p, err := localGitOps(opts.GitOps, opts.Cloud.ServiceURI, logger)
		if err == nil {
			err = registry.AddStatic(p, gitopsprovider.ProviderType, provider.OriginBuiltin, p.ServerURL())
		}
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("the local GitOps repository: %w", err)
		}
		gitRepos[LocalGitOpsRepository] = p.Repository()
	}
	var agentSrv *agentServer
	if opts.Agent.Listen != "" {
		if agentSrv, err = newAgentServer(ctx, opts, box, store, alarmSvc, raisers, registry, logger); err != nil {
			store.Close()
			return nil, err
		}
		defer func() {
			if !bound {
				agentSrv.listener.Close()
			}
		}()
	}
	if err := registry.Load(ctx); err != nil {
		store.Close()
		return nil, err
	}

	lcmSvc := lcm.NewService(store, clusters{store: store, syncer: syncer}, alarmSvc, lcm.Options{OperationTimeout: opts.CNFOperationTimeout},
		logger.With("component", "lcm"), wake)
	reg.MustRegister(lcm.NewCollector(store))

	deployOpts := opts.Deployments
	deployOpts.UtilizationThreshold = opts.UtilizationThreshold
	var a1Sync *a1.Syncer // kicked on every deployment change when configured
	deploySvc := deployment.NewService(store, lcmSvc, alarmSvc, deployOpts, logger.With("component", "deployments"), func() {
		wake()
		if a1Sync != nil {
			a1Sync.Kick()
		}
	})
	deploySvc.UseGitOps(gitDeliveries{store: store, syncer: syncer, clusters: clusters{store: store, syncer: syncer}, logger: logger.With("component", "gitops")})
	reg.MustRegister(deployment.NewCollector(store))
	if opts.A1.Endpoint != "" {
		client, err := a1.NewClient(opts.A1.Endpoint, a1.Options{})
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("A1 endpoint: %w", err)
		}
		a1Sync = a1.NewSyncer(client, deploySvc, a1.SyncOptions{Interval: opts.A1.SyncInterval, PolicyTypes: opts.A1.PolicyTypes}, logger.With("component", "a1"))
	}
	// One report builder for /o2ims/v1/metrics and the A1 reports.
	reports := report.NewBuilder(svc, store, deploySvc, reg)
	a1Reports, err := newA1Reporter(opts, reports, webhook, store.Ping, reg, logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	defer func() {
		if !bound {
			a1Reports.close()
		}
	}()

	provSvc, err := newProvisioning(opts.Provisioning, store, syncer, raisers, box, logger.With("component", "provisioning"), wake)
	if err != nil {
		store.Close()
		return nil, err
	}

	catalog, err := intent.LoadCatalog(opts.AdvisorCatalog)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("advisor catalog: %w", err)
	}
	prices, err := advisor.LoadPrices(opts.AdvisorPrices)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("advisor price table: %w", err)
	}
	advisorSvc := advisor.NewService(store, deploySvc, catalog, prices, logger.With("component", "advisor"))
	if opts.AdvisorModel.Endpoint != "" {
		m, err := advisor.NewModel(opts.AdvisorModel)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("advisor model: %w", err)
		}
		advisorSvc.UseModel(m)
	}

	a := &App{opts: opts, logger: logger, store: store, syncer: syncer, registry: reg, dispatch: dispatcher, events: publisher, stopTracing: stopTracing, alarms: alarmSvc, tls: reloader, lcm: lcmSvc, deploy: deploySvc, provisioning: provSvc, a1: a1Sync, agent: agentSrv}
	a.a1reports = a1Reports
	var dmsCredentials func(string) (map[string]any, bool)
	if opts.ExposeDMSCredentials {
		dmsCredentials = func(name string) (map[string]any, bool) {
			p, ok := syncer.Provider(name)
			if !ok {
				return nil, false
			}
			c, ok := p.(interface{ DMSCredentials() map[string]any })
			if !ok {
				return nil, false
			}
			return c.DMSCredentials(), true
		}
	}
	handler, err := httpapi.New(httpapi.Options{
		DMSCredentials:  dmsCredentials,
		Inventory:       svc,
		Subscriptions:   subs,
		Alarms:          alarmSvc,
		Receiver:        alarms.NewReceiver(alarmSvc, wakingStore{Store: store, wake: wake}),
		Providers:       registry,
		LCM:             lcmSvc,
		Deployments:     deploySvc,
		Provisioning:    provSvc,
		Advisor:         advisorSvc,
		Report:          reports,
		Changes:         store,
		Specs:           openapi.Specs,
		Registry:        reg,
		Gatherer:        reg,
		Ready:           a.ready,
		Logger:          logger,
		Authenticator:   authenticator,
		PublicPaths:     opts.PublicPaths,
		RateLimiter:     limiter,
		TLS:             reloader != nil,
		MaxBodyBytes:    opts.MaxBodyBytes,
		AccessLogLevel:  opts.AccessLogLevel,
		GitRepositories: gitRepos,
		Edge:            agentSrv.service(),
		AgentURL:        agentSrv.url(opts.Agent.Hosts),
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	bound = true
	if reloader != nil {
		ln = tls.NewListener(ln, reloader.TLSConfig())
	}
	a.listener = ln
	a.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    httpapi.ServerMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if opts.DebugListen != "" {
		dl, err := listenLoopback(opts.DebugListen)
		if err != nil {
			ln.Close()
			if agentSrv != nil {
				agentSrv.listener.Close()
			}
			store.Close()
			return nil, fmt.Errorf("debug listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/vars", expvar.Handler())
		a.debugListener = dl
		a.debugHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	}
	return a, nil
}

// listenLoopback listens on addr, which must be a loopback address: the
// debug endpoints have no authentication.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s is not a loopback address; the debug endpoints listen on loopback only", addr)
	}
	return net.Listen("tcp", addr)
}

// KnowledgeWebhookConsumer is the consumerSubscriptionId of the
// subscription KnowledgeWebhook keeps.
const KnowledgeWebhookConsumer = "nephoran-knowledge-webhook"

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to ShutdownTimeout), stops
// the providers and closes the store.
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	// Background work stops after the HTTP server has drained.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { a.syncer.Run(bgCtx) })
	bg.Go(func() { a.dispatch.Run(bgCtx) })
	if a.events != nil {
		bg.Go(func() { a.runEventStream(bgCtx) })
	}
	bg.Go(func() { a.alarms.RunRetention(bgCtx, time.Hour) })
	bg.Go(func() { a.pruneTombstones(bgCtx, time.Hour) })
	bg.Go(func() { a.lcm.Run(bgCtx) })
	bg.Go(func() { a.deploy.Run(bgCtx) })
	bg.Go(func() { a.provisioning.Run(bgCtx) })
	if a.a1 != nil {
		bg.Go(func() { a.a1.Run(bgCtx) })
	}
	if a.a1reports != nil {
		bg.Go(func() { a.a1reports.Run(bgCtx) })
	}
	if a.tls != nil {
		bg.Go(func() { a.tls.Run(bgCtx) })
	}
	if a.agent != nil {
		bg.Go(func() { a.agent.svc.Run(bgCtx) })
		go func() {
			if err := a.agent.http.Serve(a.agent.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.logger.Error("agent listener stopped", "err", err)
			}
		}()
		// Logged before "serving", so that whoever waits for that
		// record finds this one too.
		a.logger.Info("agent listener serving", "addr", a.AgentAddr(), "hosts", a.opts.Agent.Hosts, "ca_hash", a.agent.svc.CAHash())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.http.Serve(a.listener) }()
	if a.debugHTTP != nil {
		go func() { _ = a.debugHTTP.Serve(a.debugListener) }()
		a.logger.Info("debug endpoints serving", "addr", a.debugListener.Addr().String(), "paths", "/debug/pprof/, /debug/vars")
	}
	a.logger.Info("serving", "addr", a.Addr(), "tls", a.tls != nil, "auth", a.opts.Auth != nil)

	var err error
	select {
	case <-ctx.Done():
		a.logger.Info("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	if serr := a.http.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		a.logger.Warn("shutdown incomplete", "err", serr)
	}
	if a.debugHTTP != nil {
		_ = a.debugHTTP.Close()
	}
	if a.agent != nil {
		if serr := a.agent.http.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			a.logger.Warn("agent listener shutdown incomplete", "err", serr)
		}
	}
	stopBackground()
	bg.Wait()
	// The last spans reach the collector before the process ends.
	if terr := a.stopTracing(shutdownCtx); terr != nil {
		a.logger.Warn("flushing traces", "err", terr)
	}
	return err
}

// pruneTombstones forgets the change feeds' deletions older than the
// retention, now and every interval, until ctx ends.
func (a *App) pruneTombstones(ctx context.Context, interval time.Duration) {
	retention := a.opts.TombstoneRetention
	if retention <= 0 {
		retention = 7 * 24 * time.Hour
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := a.store.PruneTombstones(ctx, retention); err != nil {
			a.logger.Warn("pruning tombstones failed", "err", err)
		} else if n > 0 {
			a.logger.Info("tombstones pruned", "count", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ready reports whether the store answers and every provider has synced once.
func (a *App) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	// Every provider has tried once, so the inventory is as complete as
	// it can be; a provider that is down does not make this server unready
	// (it raises an alarm instead).
	for _, st := range a.syncer.Status() {
		if st.LastAttempt.IsZero() {
			return fmt.Errorf("provider %s has not completed its first discovery", st.Name)
		}
	}
	return nil
}

// wakingStore wakes the dispatcher after every alarm change it commits.
// eventStreamReader names the event stream publisher among the outbox's
// readers.
const eventStreamReader = "eventstream"

// newEventStream returns the NATS JetStream publisher of the outbox, or
// nil when none is configured (and then the outbox keeps nothing for it).
// Its messages are the notifications an inventory v2 and an alarm
// subscriber get.
func newEventStream(ctx context.Context, o *eventstream.Options, source string, store *sqlstore.Store, n *subscription.Notifier, reg prometheus.Registerer, logger *slog.Logger) (*eventstream.Publisher, error) {
	if o == nil {
		return nil, store.RemoveReader(ctx, eventStreamReader)
	}
	opts := *o
	opts.Streams = []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
	opts.Registerer = reg
	opts.ObjectType = func(ev sqlstore.Event) string { return subscription.ObjectTypeName(ev.Stream, ev.ObjectType) }
	if err := store.RegisterReader(ctx, eventStreamReader, opts.Streams); err != nil {
		return nil, err
	}
	// A CloudEvent whose data is the notification a subscriber of the
	// newest API gets; a pseudo-subscription gives it a stable
	// notificationId.
	render := func(ev sqlstore.Event) ([]byte, error) {
		sub := sqlstore.Subscription{ID: eventStreamSubscriptionID, Stream: ev.Stream, APIMajor: 2}
		data, err := n.RenderContext(context.WithoutCancel(ctx), sub, ev)
		if err != nil {
			return nil, err
		}
		return cloudEvent(source, ev, data)
	}
	p, err := eventstream.New(store, render, opts, logger.With("component", "eventstream"))
	if err != nil {
		return nil, fmt.Errorf("event stream: %w", err)
	}
	return p, nil
}

// cloudEvent wraps a notification as a CloudEvents 1.0 JSON event
// (structured mode): id is the message's Nats-Msg-Id, type names the API,
// object type and event, subject the object.
func cloudEvent(source string, ev sqlstore.Event, data json.RawMessage) ([]byte, error) {
	name, _ := eventstream.EventName(ev.Stream, ev.EventType)
	return json.Marshal(map[string]any{
		"specversion":     "1.0",
		"id":              fmt.Sprintf("%s-%d", ev.Stream, ev.Seq),
		"source":          source,
		"type":            "com.nephoran.o2ims." + ev.Stream + "." + subscription.ObjectTypeName(ev.Stream, ev.ObjectType) + "." + name,
		"subject":         ev.ObjectID,
		"time":            ev.CreatedAt.UTC().Format(time.RFC3339Nano),
		"datacontenttype": "application/json",
		"data":            data,
	})
}

// eventStreamSubscriptionID seeds the notificationIds of the event
// stream's messages.
const eventStreamSubscriptionID = "0c10ad00-0000-5000-8000-00000000e5e5"

// runEventStream runs the publisher and records, every few seconds, how
// far it got, so that the outbox keeps only what it has not published.
func (a *App) runEventStream(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.events.Run(ctx); err != nil && ctx.Err() == nil {
			a.logger.Error("event stream stopped", "err", err)
		}
	})
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			// What it published last is recorded with a fresh context.
			a.recordEventStream(context.WithoutCancel(ctx))
			return
		case <-t.C:
			a.recordEventStream(ctx)
		}
	}
}

func (a *App) recordEventStream(ctx context.Context) {
	for stream, seq := range a.events.Status().LastSeq {
		if err := a.store.SetReaderCursor(ctx, eventStreamReader, stream, seq); err != nil {
			a.logger.Warn("recording the event stream's progress", "err", err)
		}
	}
}

// boundURI puts the port of addr into a service URI that names port 0
// (the default URI of --listen 127.0.0.1:0).
func boundURI(uri string, addr net.Addr) string {
	u, err := url.Parse(uri)
	tcp, ok := addr.(*net.TCPAddr)
	if err != nil || !ok || u.Port() != "0" {
		return uri
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(tcp.Port))
	return u.String()
}

// defaultPlace completes the O-Cloud's default location.
func defaultPlace(p inventory.Place, cloudName string) inventory.Place {
	l := &p.Location
	l.GlobalLocationID = cmp.Or(l.GlobalLocationID, "default")
	if l.Coordinate == nil && len(l.CivicAddress) == 0 && l.Address == "" {
		host, _ := os.Hostname()
		l.Address = "host " + cmp.Or(host, "localhost")
	}
	l.Name = cmp.Or(l.Name, cmp.Or(l.Address, l.GlobalLocationID))
	l.Description = cmp.Or(l.Description, "Default location of O-Cloud "+cmp.Or(cloudName, "nephoran-ocloud"))
	return p
}

type wakingStore struct {
	*sqlstore.Store
	wake func()
}

func (w wakingStore) MutateOpenAlarm(ctx context.Context, fp string, fn sqlstore.AlarmMutation) (*ims.AlarmEventRecord, error) {
	defer w.wake()
	return w.Store.MutateOpenAlarm(ctx, fp, fn)
}

func (w wakingStore) MutateAlarm(ctx context.Context, id string, fn sqlstore.AlarmMutation) (*ims.AlarmEventRecord, error) {
	defer w.wake()
	return w.Store.MutateAlarm(ctx, id, fn)
}

// waker wakes the dispatcher after a sync committed changes.
type waker struct{ wake func() }

func (w waker) Synced(_ context.Context, _ string, changes []sqlstore.Change) {
	if len(changes) > 0 {
		w.wake()
	}
}

func (w waker) SyncFailed(context.Context, string, error) {}

// checkExposure refuses to serve without authentication beyond loopback
// unless the operator insists.
func checkExposure(opts Options) error {
	if opts.Auth != nil || opts.InsecureAllowUnauthenticated {
		return nil
	}
	host, _, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", opts.Listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to serve without authentication on %s, which is not a loopback address: configure --oidc-issuer-url or --oidc-jwks-url, or pass --insecure-allow-unauthenticated", opts.Listen)
}

// clusters resolves a deployment manager to the client configuration of
// the Kubernetes provider that reported it.
type clusters struct {
	store  *sqlstore.Store
	syncer *inventory.Syncer
}

func (c clusters) RESTConfig(ctx context.Context, dmID string) (*rest.Config, error) {
	doc, err := c.store.Get(ctx, inventory.DeploymentManagerSchema, dmID)
	if err != nil {
		return nil, err
	}
	var dm ims.DeploymentManager
	if err := json.Unmarshal(doc, &dm); err != nil {
		return nil, ims.Internal(err, "reading the deployment manager failed")
	}
	name, _ := dm.Extensions["providerName"].(string)
	p, ok := c.syncer.Provider(name)
	if !ok {
		return nil, ims.Errorf(ims.EUNAVAILABLE, "the provider of deployment manager %q is not running", dmID)
	}
	k, ok := p.(interface{ RESTConfig() *rest.Config })
	if !ok {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "deployment manager %q is not a Kubernetes cluster", dmID)
	}
	return k.RESTConfig(), nil
}
