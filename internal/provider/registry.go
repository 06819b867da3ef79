// Package provider keeps the registry of infrastructure providers, whose
// implementations are the packages below it: those built in (the local
// host), those in the configuration file, and those registered at runtime
// through the API, whose credentials are stored encrypted. It starts and
// stops them in the inventory syncer.
package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store persists API registrations.
type Store interface {
	CreateProvider(ctx context.Context, r sqlstore.ProviderRecord) error
	ProviderRecords(ctx context.Context) ([]sqlstore.ProviderRecord, error)
	DeleteProvider(ctx context.Context, id string) error
}

// Syncer runs providers (inventory.Syncer).
type Syncer interface {
	Add(p inventory.Provider) error
	Remove(ctx context.Context, name string) error
	ProviderStatus(name string) (inventory.ProviderStatus, bool)
}

// Config is a provider's configuration as submitted.
type Config struct {
	// Kubeconfig is a kubeconfig document (stored encrypted).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// KubeconfigPath references a kubeconfig file on the server instead:
	// any path in the configuration file; through the API only a file in
	// the provider credentials directory, by a name relative to it.
	KubeconfigPath string `json:"kubeconfigPath,omitempty"`
	// Context selects a kubeconfig context.
	Context string `json:"context,omitempty"`

	// Delivery "gitops" (type kubernetes) sends deployments placed on the
	// cluster's pools through the repository below, which the cluster's
	// own GitOps agent applies; "direct" (the default) applies them.
	Delivery string `json:"delivery,omitempty"`

	// A GitOps repository (type gitops): its http(s) URL, branch and
	// package directory, the credentials its pushes use (stored
	// encrypted) and the Kubernetes provider whose cluster it syncs to.
	Repository    string `json:"repository,omitempty"`
	Branch        string `json:"branch,omitempty"`
	Directory     string `json:"directory,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	TargetCluster string `json:"targetCluster,omitempty"`

	// Porch (type porch, with the kubeconfig of the API server serving
	// it): Repository is the Porch Repository of the deployments, the
	// blueprint package is Blueprint in BlueprintRepository, the package
	// revisions are in Namespace, and AutoApprove publishes proposals.
	BlueprintRepository string `json:"blueprintRepository,omitempty"`
	Blueprint           string `json:"blueprint,omitempty"`
	Namespace           string `json:"namespace,omitempty"`
	AutoApprove         bool   `json:"autoApprove,omitempty"`

	// AWS (type aws), with the integration guide's keys: the region, an
	// access key (stored encrypted), the VPC inventoried, the instance
	// types offered, the IMS's default tags, the compute budget placement
	// sees, and an EC2 endpoint override (private endpoints, tests).
	Region        string            `json:"region,omitempty"`
	Endpoint      string            `json:"endpoint,omitempty"`
	Credentials   *AWSCredentials   `json:"credentials,omitempty"`
	VPC           *AWSVPC           `json:"vpc,omitempty"`
	InstanceTypes *AWSInstanceTypes `json:"instance_types,omitempty"`
	Tags          *AWSTags          `json:"tags,omitempty"`
	Capacity      *AWSCapacity      `json:"capacity,omitempty"`
	// CredentialsFile and Profile, for providers of the configuration
	// file only, name a shared credentials file and its profile; without
	// them and Credentials the SDK's default chain is used.
	CredentialsFile string `json:"-"`
	Profile         string `json:"-"`

	// Azure (type azure): the subscription, service principal (its
	// client secret stored encrypted), resource group, location, virtual
	// network, VM sizes and cloud; Tags and Capacity (without zones) as
	// for aws.
	SubscriptionID string           `json:"subscriptionId,omitempty"`
	TenantID       string           `json:"tenantId,omitempty"`
	ClientID       string           `json:"clientId,omitempty"`
	ClientSecret   string           `json:"clientSecret,omitempty"`
	ResourceGroup  string           `json:"resourceGroup,omitempty"`
	Location       string           `json:"location,omitempty"`
	Cloud          string           `json:"cloud,omitempty"`
	Networking     *AzureNetworking `json:"networking,omitempty"`
	VMSizes        *AzureVMSizes    `json:"vmSizes,omitempty"`

	// SelfContained, set for registrations made through the API, refuses
	// kubeconfigs that run programs or read files: what the API is sent
	// must not reach the server's own files or commands.
	SelfContained bool `json:"-"`
}

// AWSCredentials are an AWS access key, with the session token of
// temporary (STS) credentials.
type AWSCredentials struct {
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

// AWSVPC is the VPC an aws provider inventories; Subnets, when given,
// restrict it to those.
type AWSVPC struct {
	VPCID   string      `json:"vpcId,omitempty"`
	Subnets []AWSSubnet `json:"subnets,omitempty"`
}

// AWSSubnet is a subnet of the VPC: its id, availability zone and type
// (public or private).
type AWSSubnet struct {
	ID   string `json:"id"`
	Zone string `json:"zone,omitempty"`
	Type string `json:"type,omitempty"`
}

// AWSInstanceTypes are the instance types offered, and the default one.
type AWSInstanceTypes struct {
	Supported []string `json:"supported,omitempty"`
	Default   string   `json:"default,omitempty"`
}

// AWSTags are the IMS's default tags: the instances inventoried carry
// them all.
type AWSTags struct {
	Default map[string]string `json:"default,omitempty"`
}

// AWSBudget is an amount of compute.
type AWSBudget struct {
	VCPUs     int64 `json:"vcpus,omitempty"`
	MemoryGiB int64 `json:"memoryGiB,omitempty"`
}

// AWSCapacity is the compute the IMS may use in the region: the budget
// the zones share, and those of zones with their own.
type AWSCapacity struct {
	AWSBudget
	Zones map[string]AWSBudget `json:"zones,omitempty"`
	// FromQuotas takes the shared vCPUs from the account's Service
	// Quotas instead of VCPUs.
	FromQuotas bool `json:"fromQuotas,omitempty"`
}

// AzureNetworking is the virtual network an azure provider inventories:
// its subnets (all of them when none is listed) are resource pools.
type AzureNetworking struct {
	VNetName string        `json:"vnetName,omitempty"`
	Subnets  []AzureSubnet `json:"subnets,omitempty"`
}

// AzureSubnet is a subnet of the virtual network and its purpose
// (compute or storage).
type AzureSubnet struct {
	Name    string `json:"name"`
	Purpose string `json:"purpose,omitempty"`
}

// AzureVMSizes are the VM sizes offered, and the default one.
type AzureVMSizes struct {
	Supported []string `json:"supported,omitempty"`
	Default   string   `json:"default,omitempty"`
}

// Options configure a Registry.
type Options struct {
	// Box seals inline credentials at rest; nil: they cannot be stored.
	Box *secrets.Box
	// CredentialsDir, when set, is the only directory whose files a
	// registration through the API may name as kubeconfigPath.
	CredentialsDir string
}

// Factory builds a provider of a type from its configuration.
type Factory func(name string, cfg Config) (inventory.Provider, error)

// Origins of a registration.
const (
	OriginBuiltin = "builtin"
	OriginConfig  = "config"
	OriginAPI     = "api"
)

// Registration is one known provider.
type Registration struct {
	ID        string
	Name      string
	Type      string
	Origin    string
	CreatedAt time.Time
	// Endpoint is where the provider's infrastructure is reached (no credentials).
	Endpoint string
}

// Registry manages providers.
type Registry struct {
	store     Store
	syncer    Syncer
	box       *secrets.Box // nil: inline credentials cannot be stored
	credDir   string
	factories map[string]Factory
	logger    *slog.Logger

	mu   sync.Mutex
	regs map[string]Registration // by id
}

// NewRegistry returns a registry.
func NewRegistry(store Store, syncer Syncer, factories map[string]Factory, opts Options, logger *slog.Logger) *Registry {
	return &Registry{store: store, syncer: syncer, box: opts.Box, credDir: opts.CredentialsDir, factories: factories, logger: logger, regs: map[string]Registration{}}
}

// maxKubeconfig is the largest kubeconfig accepted, inline or as a file.
const maxKubeconfig = 256 << 10

// build makes the provider of an API registration: a kubeconfigPath is
// read from the credentials directory, and the kubeconfig must carry its
// credentials inline.
func (r *Registry) build(typ, name string, cfg Config) (inventory.Provider, error) {
	f, ok := r.factories[typ]
	if !ok {
		return nil, ims.Errorf(ims.EINVALID, "type: unknown provider type %q (known: %v)", typ, r.types())
	}
	if cfg.KubeconfigPath != "" {
		b, err := r.readCredential(cfg.KubeconfigPath)
		if err != nil {
			return nil, err
		}
		cfg.Kubeconfig, cfg.KubeconfigPath = string(b), ""
	}
	cfg.SelfContained = true
	return f(name, cfg)
}

// readCredential reads the file name of the credentials directory. The
// name must be local (no "..", not absolute) and the file is opened
// through an os.Root, so no symbolic link leads out of the directory;
// every failure reads the same, so nothing is told of what lies outside.
func (r *Registry) readCredential(name string) ([]byte, error) {
	if r.credDir == "" {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "config.kubeconfigPath: this server reads no credential files for providers registered through the API; send the kubeconfig inline (it is stored encrypted)")
	}
	refused := ims.Errorf(ims.EINVALID, "config.kubeconfigPath: %q is not a readable kubeconfig of the provider credentials directory (a name relative to it)", truncate(name, 128))
	if !filepath.IsLocal(name) {
		return nil, refused
	}
	root, err := os.OpenRoot(r.credDir)
	if err != nil {
		r.logger.Error("the provider credentials directory cannot be opened", "dir", r.credDir, "err", err)
		return nil, refused
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, refused
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > maxKubeconfig {
		return nil, refused
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKubeconfig+1))
	if err != nil || len(b) > maxKubeconfig {
		return nil, refused
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:providers"))

// StaticID is the identifier of a built-in or configured provider: derived
// from its name, so it is the same across restarts.
func StaticID(name string) string { return uuid.NewSHA1(idSpace, []byte(name)).String() }

// AddStatic registers a built-in or configured provider.
func (r *Registry) AddStatic(p inventory.Provider, typ, origin, endpoint string) error {
	if err := r.syncer.Add(p); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := StaticID(p.Name())
	r.regs[id] = Registration{ID: id, Name: p.Name(), Type: typ, Origin: origin, Endpoint: endpoint}
	return nil
}

// Load starts every provider registered through the API before. One that
// cannot be built (for example its kubeconfig file vanished) is logged and
// skipped; its inventory stays until it is deleted or fixed.
func (r *Registry) Load(ctx context.Context) error {
	recs, err := r.store.ProviderRecords(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		cfg, err := r.openConfig(rec)
		if err == nil {
			err = r.start(rec.ID, rec.Name, rec.Type, cfg, rec.CreatedAt)
		}
		if err != nil {
			r.logger.Error("registered provider not started", "provider", rec.Name, "err", err)
			r.mu.Lock()
			r.regs[rec.ID] = Registration{ID: rec.ID, Name: rec.Name, Type: rec.Type, Origin: OriginAPI, CreatedAt: rec.CreatedAt}
			r.mu.Unlock()
		}
	}
	return nil
}

func (r *Registry) openConfig(rec sqlstore.ProviderRecord) (Config, error) {
	var cfg Config
	plain := []byte(rec.Config)
	if len(rec.Config) > 3 && rec.Config[:3] == "v1:" {
		if r.box == nil {
			return cfg, fmt.Errorf("its credentials are encrypted and no secrets key is configured")
		}
		p, err := r.box.Open(rec.Config, []byte(rec.ID))
		if err != nil {
			return cfg, err
		}
		plain = p
	}
	if err := json.Unmarshal(plain, &cfg); err != nil {
		return cfg, fmt.Errorf("stored configuration: %w", err)
	}
	return cfg, nil
}

func (r *Registry) start(id, name, typ string, cfg Config, created time.Time) error {
	p, err := r.build(typ, name, cfg)
	if err != nil {
		return err
	}
	if err := r.syncer.Add(p); err != nil {
		return err
	}
	endpoint := ""
	if e, ok := p.(interface{ ServerURL() string }); ok {
		endpoint = e.ServerURL()
	}
	r.mu.Lock()
	r.regs[id] = Registration{ID: id, Name: name, Type: typ, Origin: OriginAPI, CreatedAt: created, Endpoint: endpoint}
	r.mu.Unlock()
	return nil
}

func (r *Registry) types() []string {
	var out []string
	for t := range r.factories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Input is a registration request.
type Input struct {
	Name   string
	Type   string
	Config Config
}

var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)

// Create registers and starts a provider.
func (r *Registry) Create(ctx context.Context, in Input) (Registration, error) {
	if !validName.MatchString(in.Name) {
		return Registration{}, ims.Errorf(ims.EINVALID, "name: must be 1-63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit")
	}
	if _, ok := r.factories[in.Type]; !ok {
		return Registration{}, ims.Errorf(ims.EINVALID, "type: unknown provider type %q (known: %v)", in.Type, r.types())
	}
	if err := r.checkConfig(in.Type, in.Config); err != nil {
		return Registration{}, err
	}
	r.mu.Lock()
	for _, reg := range r.regs {
		if reg.Name == in.Name {
			r.mu.Unlock()
			return Registration{}, ims.Errorf(ims.ECONFLICT, "a provider named %q exists already", in.Name)
		}
	}
	r.mu.Unlock()
	// Build it first: a kubeconfig that does not parse is a 400, before
	// anything is stored.
	if _, err := r.build(in.Type, in.Name, in.Config); err != nil {
		return Registration{}, err
	}
	id := uuid.NewString()
	plain, err := json.Marshal(in.Config)
	if err != nil {
		return Registration{}, ims.Internal(err, "registering the provider failed")
	}
	sealed := string(plain)
	if r.box != nil {
		if sealed, err = r.box.Seal(plain, []byte(id)); err != nil {
			return Registration{}, ims.Internal(err, "registering the provider failed")
		}
	}
	created := time.Now()
	doc, _ := json.Marshal(map[string]any{"providerId": id, "name": in.Name, "type": in.Type})
	if err := r.store.CreateProvider(ctx, sqlstore.ProviderRecord{ID: id, Name: in.Name, Type: in.Type, Config: sealed, Doc: doc, CreatedAt: created}); err != nil {
		return Registration{}, err
	}
	if err := r.start(id, in.Name, in.Type, in.Config, created); err != nil {
		_ = r.store.DeleteProvider(ctx, id)
		return Registration{}, err
	}
	r.logger.InfoContext(ctx, "provider registered", "provider", in.Name, "type", in.Type, "id", id)
	reg, _ := r.Get(id)
	return reg, nil
}

// checkConfig checks that a registration's configuration fits its type.
func (r *Registry) checkConfig(typ string, c Config) error {
	kube := c.Kubeconfig != "" || c.KubeconfigPath != "" || c.Context != ""
	git := c.Repository != "" || c.Branch != "" || c.Directory != "" || c.Username != "" || c.Password != "" || c.TargetCluster != ""
	porch := c.BlueprintRepository != "" || c.Blueprint != "" || c.Namespace != "" || c.AutoApprove
	awsOnly := c.Region != "" || c.Endpoint != "" || c.Credentials != nil || c.VPC != nil || c.InstanceTypes != nil
	aws := awsOnly || c.Tags != nil || c.Capacity != nil
	azure := c.SubscriptionID != "" || c.TenantID != "" || c.ClientID != "" || c.ClientSecret != "" || c.ResourceGroup != "" || c.Location != "" ||
		c.Cloud != "" || c.Networking != nil || c.VMSizes != nil
	switch {
	case typ != "kubernetes" && c.Delivery != "":
		return ims.Errorf(ims.EINVALID, "config.delivery: only for kubernetes providers")
	case typ == "azure":
		if kube || git || porch || awsOnly {
			return ims.Errorf(ims.EINVALID, "config: an azure provider takes subscriptionId, tenantId, clientId, clientSecret, resourceGroup, location, networking, vmSizes, tags, capacity and cloud")
		}
		return r.checkAzure(c)
	case azure:
		return ims.Errorf(ims.EINVALID, "config: subscriptionId, tenantId, clientId, clientSecret, resourceGroup, location, networking, vmSizes and cloud are for azure providers")
	case typ == "aws":
		if kube || git || porch {
			return ims.Errorf(ims.EINVALID, "config: an aws provider takes region, credentials, vpc, instance_types, tags, capacity and endpoint")
		}
		return r.checkAWS(c)
	case aws:
		return ims.Errorf(ims.EINVALID, "config: region, credentials, vpc, instance_types, tags, capacity and endpoint are for aws providers")
	case typ == "porch":
		if c.Branch != "" || c.Directory != "" || c.Username != "" || c.Password != "" {
			return ims.Errorf(ims.EINVALID, "config: a porch provider takes a kubeconfig (of the API server serving Porch), repository, blueprintRepository, blueprint, namespace, autoApprove and targetCluster")
		}
		for name, v := range map[string]string{"repository": c.Repository, "blueprintRepository": c.BlueprintRepository, "blueprint": c.Blueprint, "namespace": c.Namespace, "targetCluster": c.TargetCluster} {
			if len(v) > 253 {
				return ims.Errorf(ims.EINVALID, "config.%s: at most 253 characters", name)
			}
		}
		return r.checkKubeconfig(c)
	case porch:
		return ims.Errorf(ims.EINVALID, "config: blueprintRepository, blueprint, namespace and autoApprove are for porch providers")
	}
	switch typ {
	case "gitops":
		if kube {
			return ims.Errorf(ims.EINVALID, "config: a gitops provider takes repository, branch, directory, username, password and targetCluster, not a kubeconfig")
		}
		if c.Repository == "" {
			return ims.Errorf(ims.EINVALID, "config.repository: the repository's http(s) URL is required")
		}
		for name, v := range map[string]string{"repository": c.Repository, "branch": c.Branch, "directory": c.Directory, "username": c.Username, "password": c.Password, "targetCluster": c.TargetCluster} {
			if len(v) > 2048 {
				return ims.Errorf(ims.EINVALID, "config.%s: at most 2048 characters", name)
			}
		}
		if c.Password != "" && r.box == nil {
			return ims.Errorf(ims.EUNPROCESSABLE, "config.password: this server has no secrets key to store credentials encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY)")
		}
		return nil
	}
	switch c.Delivery {
	case "", "direct":
		if git {
			return ims.Errorf(ims.EINVALID, "config: repository, branch, directory, username, password and targetCluster are for gitops providers, or for a cluster with delivery gitops")
		}
	case "gitops":
		if c.Repository == "" || c.TargetCluster != "" {
			return ims.Errorf(ims.EINVALID, "config: a cluster with delivery gitops needs the repository its agent applies (repository, with branch, directory, username, password); it is its own target")
		}
		if c.Password != "" && r.box == nil {
			return ims.Errorf(ims.EUNPROCESSABLE, "config.password: this server has no secrets key to store credentials encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY)")
		}
	default:
		return ims.Errorf(ims.EINVALID, "config.delivery: %q is neither direct nor gitops", truncate(c.Delivery, 32))
	}
	return r.checkKubeconfig(c)
}

// checkAWS checks what an aws registration needs before it is built
// (which checks the values): through the API its access key is inline,
// and stored only encrypted.
func (r *Registry) checkAWS(c Config) error {
	switch {
	case c.Region == "":
		return ims.Errorf(ims.EINVALID, "config.region: required (an AWS region such as us-east-1)")
	case c.VPC == nil || c.VPC.VPCID == "":
		return ims.Errorf(ims.EINVALID, "config.vpc.vpcId: required (the VPC whose subnets and instances are inventoried)")
	case c.Credentials == nil || c.Credentials.AccessKeyID == "" || c.Credentials.SecretAccessKey == "":
		return ims.Errorf(ims.EINVALID, "config.credentials: accessKeyId and secretAccessKey are required for a provider registered through the API (they are stored encrypted); the SDK's default credential chain serves only providers of the configuration file")
	case r.box == nil:
		return ims.Errorf(ims.EUNPROCESSABLE, "config.credentials: this server has no secrets key to store credentials encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY)")
	}
	return nil
}

// checkAzure checks what an azure registration needs before it is built
// (which checks the values): through the API the service principal's
// secret is inline, and stored only encrypted.
func (r *Registry) checkAzure(c Config) error {
	switch {
	case c.SubscriptionID == "":
		return ims.Errorf(ims.EINVALID, "config.subscriptionId: required (the subscription holding the resource group)")
	case c.TenantID == "" || c.ClientID == "" || c.ClientSecret == "":
		return ims.Errorf(ims.EINVALID, "config: tenantId, clientId and clientSecret (a service principal) are required for an azure provider registered through the API; the secret is stored encrypted and never returned")
	case c.ResourceGroup == "":
		return ims.Errorf(ims.EINVALID, "config.resourceGroup: required (the resource group whose VMs are inventoried and where templates are deployed)")
	case c.Location == "":
		return ims.Errorf(ims.EINVALID, "config.location: required (an Azure location such as westeurope)")
	case c.Networking == nil || c.Networking.VNetName == "":
		return ims.Errorf(ims.EINVALID, "config.networking.vnetName: required (the virtual network whose subnets are the resource pools)")
	case c.Capacity != nil && len(c.Capacity.Zones) > 0:
		return ims.Errorf(ims.EINVALID, "config.capacity.zones: an azure provider's budget is the location's (vcpus, memoryGiB), shared by its pools")
	case r.box == nil:
		return ims.Errorf(ims.EUNPROCESSABLE, "config.clientSecret: this server has no secrets key to store credentials encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY)")
	}
	return nil
}

// checkKubeconfig checks a registration's kubeconfig.
func (r *Registry) checkKubeconfig(c Config) error {
	if c.Kubeconfig != "" && c.KubeconfigPath != "" {
		return ims.Errorf(ims.EINVALID, "config: give kubeconfig or kubeconfigPath, not both")
	}
	if c.Kubeconfig == "" && c.KubeconfigPath == "" {
		return ims.Errorf(ims.EINVALID, "config: kubeconfig or kubeconfigPath is required")
	}
	if len(c.Kubeconfig) > maxKubeconfig {
		return ims.Errorf(ims.EINVALID, "config.kubeconfig: larger than 256 KiB")
	}
	if c.Kubeconfig != "" && r.box == nil {
		return ims.Errorf(ims.EUNPROCESSABLE, "config.kubeconfig: this server has no secrets key to store credentials encrypted; configure --secrets-key-file (or O2IMS_SECRETS_KEY), or name a file of the provider credentials directory with kubeconfigPath")
	}
	return nil
}

// List returns every provider, built-in and configured ones first.
func (r *Registry) List() []Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Registration, 0, len(r.regs))
	for _, reg := range r.regs {
		out = append(out, reg)
	}
	slices.SortFunc(out, func(a, b Registration) int {
		if a.CreatedAt.Equal(b.CreatedAt) {
			return compare(a.Name, b.Name)
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Get returns one provider.
func (r *Registry) Get(id string) (Registration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg, ok := r.regs[id]
	if !ok {
		return Registration{}, ims.Errorf(ims.ENOTFOUND, "provider %q not found", id)
	}
	return reg, nil
}

// Status returns a provider's sync status.
func (r *Registry) Status(reg Registration) (inventory.ProviderStatus, bool) {
	return r.syncer.ProviderStatus(reg.Name)
}

// Delete stops an API-registered provider and removes it with its inventory.
func (r *Registry) Delete(ctx context.Context, id string) error {
	reg, err := r.Get(id)
	if err != nil {
		return err
	}
	if reg.Origin != OriginAPI {
		return ims.Errorf(ims.ECONFLICT, "provider %q is %s, not registered through the API; change the server configuration instead", reg.Name, reg.Origin)
	}
	if err := r.store.DeleteProvider(ctx, id); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.regs, id)
	r.mu.Unlock()
	if err := r.syncer.Remove(ctx, reg.Name); err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
		return err
	}
	r.logger.InfoContext(ctx, "provider deleted", "provider", reg.Name, "id", id)
	return nil
}
