// Package azure is the inventory provider for a Microsoft Azure resource
// group: one subscription's resource group in one location, read through
// Azure Resource Manager with a service principal. The subnets of the
// configured virtual network become resource pools, the group's virtual
// machines carrying the IMS's default tags become resources in the pool
// of their network interface's subnet, the VM sizes of the location
// (those supported and those in use) become resource types, and the
// location is a deployment manager. Free capacity per pool comes from a
// configured budget, less what the allocated VMs take.
//
// ARMRealizer (realize.go) deploys ARM templates into the resource group
// for the provisioning API and deletes what they created.
package azure

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armdeployments"
	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/tracing"
)

// ProviderType is the provider type, in the extensions.provider of the
// inventory objects it reports (extensions.providerName is its name).
const ProviderType = "azure"

// Subnet purposes: compute subnets hold the VMs the IMS deploys.
const (
	PurposeCompute = "compute"
	PurposeStorage = "storage"
)

// Subnet is a subnet of the virtual network and what it is for.
type Subnet struct {
	Name, Purpose string
}

// Budget is an amount of compute: vCPUs and GiB of memory.
type Budget struct {
	VCPUs     int64
	MemoryGiB int64
}

// IsZero tells whether no budget is set.
func (b Budget) IsZero() bool { return b.VCPUs == 0 && b.MemoryGiB == 0 }

// Connection overrides how the provider reaches Azure. Production leaves
// it zero; tests put the SDK's fake servers behind Transport and use a
// fake credential.
type Connection struct {
	// Transport carries every request of every Azure client of the
	// provider (nil: an HTTP client of the server's).
	Transport policy.Transporter
	// Credential replaces the service principal's client secret
	// credential.
	Credential azcore.TokenCredential
}

// Options configure one provider.
type Options struct {
	// Name is the provider's name, unique in this IMS.
	Name string
	// SubscriptionID, ResourceGroup and Location say what is
	// inventoried: the resource group of the subscription, in the
	// location (such as westeurope).
	SubscriptionID string
	ResourceGroup  string
	Location       string
	// TenantID, ClientID and ClientSecret are the service principal's
	// (the secret is stored encrypted when registered through the API).
	TenantID     string
	ClientID     string
	ClientSecret string
	// Cloud is AzurePublic (the default), AzureChina or AzureGovernment.
	Cloud string
	// VNetName is the virtual network of the resource group whose
	// Subnets are the pools (every subnet of it when none is listed).
	VNetName string
	Subnets  []Subnet
	// SupportedVMSizes are resource types even when no VM uses them;
	// DefaultVMSize must be one of them.
	SupportedVMSizes []string
	DefaultVMSize    string
	// Tags are the IMS's default tags: only VMs carrying all of them are
	// inventoried (all of the group's when empty), and VMs the IMS
	// deploys get them.
	Tags map[string]string
	// Capacity is the compute budget of the location, which the pools
	// share: placement sees each pool's share as allocatable.
	Capacity Budget
	// Timeout bounds one discovery (default 2m); RequestTimeout one HTTP
	// attempt (default 30s).
	Timeout        time.Duration
	RequestTimeout time.Duration
	// MaxRetries (default 3), RetryDelay (default 1s) and MaxRetryDelay
	// (default 10s) bound the SDK's retry policy, which retries
	// throttling (429) and transient failures.
	MaxRetries    int32
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// Connection overrides the transport and credential (tests).
	Connection Connection
}

// Provider publishes one resource group's inventory.
type Provider struct {
	opts     Options
	api      operations
	endpoint string
	logger   *slog.Logger
}

// operations are the Azure calls the provider and its realizer make:
// method values of the clients, not the clients. The server's templates
// use reflection, so the linker keeps every exported method of a type
// reachable from one converted to an interface; a client held as a field
// of the Provider would bring all its operations into the binary.
type operations struct {
	getVNet       func(ctx context.Context, rg, vnet string, o *armnetwork.VirtualNetworksClientGetOptions) (armnetwork.VirtualNetworksClientGetResponse, error)
	listSubnets   func(rg, vnet string, o *armnetwork.SubnetsClientListOptions) *runtime.Pager[armnetwork.SubnetsClientListResponse]
	listNICs      func(rg string, o *armnetwork.InterfacesClientListOptions) *runtime.Pager[armnetwork.InterfacesClientListResponse]
	getNIC        func(ctx context.Context, rg, name string, o *armnetwork.InterfacesClientGetOptions) (armnetwork.InterfacesClientGetResponse, error)
	deleteNIC     func(ctx context.Context, rg, name string, o *armnetwork.InterfacesClientBeginDeleteOptions) (*runtime.Poller[armnetwork.InterfacesClientDeleteResponse], error)
	listVMs       func(rg string, o *armcompute.VirtualMachinesClientListOptions) *runtime.Pager[armcompute.VirtualMachinesClientListResponse]
	getVM         func(ctx context.Context, rg, name string, o *armcompute.VirtualMachinesClientGetOptions) (armcompute.VirtualMachinesClientGetResponse, error)
	instanceView  func(ctx context.Context, rg, name string, o *armcompute.VirtualMachinesClientInstanceViewOptions) (armcompute.VirtualMachinesClientInstanceViewResponse, error)
	deleteVM      func(ctx context.Context, rg, name string, o *armcompute.VirtualMachinesClientBeginDeleteOptions) (*runtime.Poller[armcompute.VirtualMachinesClientDeleteResponse], error)
	listSizes     func(location string, o *armcompute.VirtualMachineSizesClientListOptions) *runtime.Pager[armcompute.VirtualMachineSizesClientListResponse]
	getDeployment func(ctx context.Context, rg, name string, o *armdeployments.DeploymentsClientGetOptions) (armdeployments.DeploymentsClientGetResponse, error)
	createDeploy  func(ctx context.Context, rg, name string, d armdeployments.Deployment, o *armdeployments.DeploymentsClientBeginCreateOrUpdateOptions) (*runtime.Poller[armdeployments.DeploymentsClientCreateOrUpdateResponse], error)
	deleteDeploy  func(ctx context.Context, rg, name string, o *armdeployments.DeploymentsClientBeginDeleteOptions) (*runtime.Poller[armdeployments.DeploymentsClientDeleteResponse], error)
}

var (
	validGUID          = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	validResourceGroup = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	validLocation      = regexp.MustCompile(`^[a-z][a-z0-9]{1,39}$`)
	validVNet          = regexp.MustCompile(`^[A-Za-z0-9][-\w.]{0,62}[\w]$|^[A-Za-z0-9]$`)
	validSubnet        = regexp.MustCompile(`^[A-Za-z0-9][-\w.]{0,78}[\w]$|^[A-Za-z0-9]$`)
	validVMSize        = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{1,63}$`)
)

// clouds are the Azure clouds by their config name.
var clouds = map[string]cloud.Configuration{
	"AzurePublic":     cloud.AzurePublic,
	"AzureChina":      cloud.AzureChina,
	"AzureGovernment": cloud.AzureGovernment,
}

// validate checks the options in the words of the API's config keys.
func (o Options) validate() error {
	bad := func(format string, a ...any) error { return ims.Errorf(ims.EINVALID, format, a...) }
	guid := func(key, v, what string) error {
		switch {
		case v == "":
			return bad("config.%s: required (%s)", key, what)
		case !validGUID.MatchString(v):
			return bad("config.%s: %q is not a GUID such as 00000000-0000-0000-0000-000000000000", key, trunc(v))
		}
		return nil
	}
	if o.Name == "" {
		return bad("a provider name is required")
	}
	if err := guid("subscriptionId", o.SubscriptionID, "the subscription holding the resource group"); err != nil {
		return err
	}
	if o.Connection.Credential == nil {
		if err := guid("tenantId", o.TenantID, "the Microsoft Entra tenant of the service principal"); err != nil {
			return err
		}
		if err := guid("clientId", o.ClientID, "the application (client) id of the service principal"); err != nil {
			return err
		}
		switch {
		case o.ClientSecret == "":
			return bad("config.clientSecret: required (the service principal's client secret; it is stored encrypted and never returned)")
		case len(o.ClientSecret) > 1024:
			return bad("config.clientSecret: at most 1024 characters")
		}
	}
	switch {
	case o.ResourceGroup == "":
		return bad("config.resourceGroup: required (the resource group whose VMs are inventoried and where templates are deployed)")
	case !validResourceGroup.MatchString(o.ResourceGroup) || strings.HasSuffix(o.ResourceGroup, "."):
		return bad("config.resourceGroup: %q is not a resource group name (1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.')", trunc(o.ResourceGroup))
	case o.Location == "":
		return bad("config.location: required (an Azure location such as westeurope)")
	case !validLocation.MatchString(o.Location):
		return bad("config.location: %q is not an Azure location name (lowercase letters and digits, such as westeurope)", trunc(o.Location))
	}
	if _, ok := clouds[o.Cloud]; o.Cloud != "" && !ok {
		return bad("config.cloud: %q is none of AzurePublic, AzureChina, AzureGovernment", trunc(o.Cloud))
	}
	switch {
	case o.VNetName == "":
		return bad("config.networking.vnetName: required (the virtual network whose subnets are the resource pools)")
	case !validVNet.MatchString(o.VNetName):
		return bad("config.networking.vnetName: %q is not a virtual network name (1 to 64 letters, digits, '-', '_' or '.')", trunc(o.VNetName))
	case len(o.Subnets) > 200:
		return bad("config.networking.subnets: at most 200 subnets")
	}
	seen := map[string]bool{}
	for i, s := range o.Subnets {
		switch {
		case !validSubnet.MatchString(s.Name):
			return bad("config.networking.subnets[%d].name: %q is not a subnet name (1 to 80 letters, digits, '-', '_' or '.')", i, trunc(s.Name))
		case seen[strings.ToLower(s.Name)]:
			return bad("config.networking.subnets[%d].name: %s is listed twice", i, s.Name)
		case s.Purpose != "" && s.Purpose != PurposeCompute && s.Purpose != PurposeStorage:
			return bad("config.networking.subnets[%d].purpose: %q is neither compute nor storage", i, trunc(s.Purpose))
		}
		seen[strings.ToLower(s.Name)] = true
	}
	if len(o.SupportedVMSizes) > 100 {
		return bad("config.vmSizes.supported: at most 100 VM sizes")
	}
	for i, s := range o.SupportedVMSizes {
		if !validVMSize.MatchString(s) {
			return bad("config.vmSizes.supported[%d]: %q is not a VM size name (such as Standard_D2s_v5)", i, trunc(s))
		}
	}
	if s := o.DefaultVMSize; s != "" {
		if !validVMSize.MatchString(s) {
			return bad("config.vmSizes.default: %q is not a VM size name (such as Standard_D2s_v5)", trunc(s))
		}
		if len(o.SupportedVMSizes) > 0 && !containsFold(o.SupportedVMSizes, s) {
			return bad("config.vmSizes.default: %s is not among the supported VM sizes", s)
		}
	}
	if len(o.Tags) > 50 {
		return bad("config.tags.default: at most 50 tags")
	}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		switch {
		case k == "" || len(k) > 512 || strings.ContainsAny(k, "<>%&\\?/"):
			return bad("config.tags.default: %q is not a tag name (1 to 512 characters, none of <>%%&\\?/)", trunc(k))
		case strings.HasPrefix(strings.ToLower(k), "azure") || strings.HasPrefix(strings.ToLower(k), "microsoft") || strings.HasPrefix(strings.ToLower(k), "windows"):
			return bad("config.tags.default: %q: the azure, microsoft and windows prefixes are reserved by Azure", trunc(k))
		case len(o.Tags[k]) > 256:
			return bad("config.tags.default.%s: a tag value has at most 256 characters", trunc(k))
		}
	}
	b := o.Capacity
	switch {
	case b.VCPUs < 0 || b.MemoryGiB < 0 || (b.VCPUs == 0) != (b.MemoryGiB == 0):
		return bad("config.capacity: vcpus and memoryGiB are both positive (or both absent)")
	case b.VCPUs > 1<<20 || b.MemoryGiB > 1<<24:
		return bad("config.capacity: implausibly large")
	}
	return nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(e, s) })
}

func trunc(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}

// New returns a provider for the resource group; it contacts Azure only
// when discovering (or deploying), so an unreachable endpoint or a
// refused secret is an unhealthy provider, not a failed registration.
func New(opts Options, logger *slog.Logger) (*Provider, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = time.Second
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = 10 * time.Second
	}
	if opts.Cloud == "" {
		opts.Cloud = "AzurePublic"
	}
	cloudCfg := clouds[opts.Cloud]
	transport := opts.Connection.Transport
	if transport == nil {
		transport = &http.Client{Transport: tracing.Transport(http.DefaultTransport.(*http.Transport).Clone())}
	}
	client := azcore.ClientOptions{
		Cloud:     cloudCfg,
		Transport: transport,
		Retry: policy.RetryOptions{
			MaxRetries: opts.MaxRetries, RetryDelay: opts.RetryDelay, MaxRetryDelay: opts.MaxRetryDelay, TryTimeout: opts.RequestTimeout,
		},
		Telemetry: policy.TelemetryOptions{ApplicationID: "nephoran-o2ims"},
	}
	cred := opts.Connection.Credential
	if cred == nil {
		c, err := azidentity.NewClientSecretCredential(opts.TenantID, opts.ClientID, opts.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: client})
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "config.clientSecret: the service principal's credential cannot be built")
		}
		cred = c
	}
	armOpts := &arm.ClientOptions{ClientOptions: client}
	vnets, err := armnetwork.NewVirtualNetworksClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure virtual networks client: %w", err)
	}
	subnets, err := armnetwork.NewSubnetsClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure subnets client: %w", err)
	}
	nics, err := armnetwork.NewInterfacesClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure network interfaces client: %w", err)
	}
	vms, err := armcompute.NewVirtualMachinesClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure virtual machines client: %w", err)
	}
	sizes, err := armcompute.NewVirtualMachineSizesClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure VM sizes client: %w", err)
	}
	deployments, err := armdeployments.NewDeploymentsClient(opts.SubscriptionID, cred, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure deployments client: %w", err)
	}
	ops := operations{
		getVNet: vnets.Get, listSubnets: subnets.NewListPager,
		listNICs: nics.NewListPager, getNIC: nics.Get, deleteNIC: nics.BeginDelete,
		listVMs: vms.NewListPager, getVM: vms.Get, instanceView: vms.InstanceView, deleteVM: vms.BeginDelete,
		listSizes:     sizes.NewListPager,
		getDeployment: deployments.Get, createDeploy: deployments.BeginCreateOrUpdate, deleteDeploy: deployments.BeginDelete,
	}
	return &Provider{opts: opts, api: ops, endpoint: strings.TrimSuffix(cloudCfg.Services[cloud.ResourceManager].Endpoint, "/"), logger: logger}, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opts.Name }

// ServerURL is the Azure Resource Manager endpoint the provider calls.
func (p *Provider) ServerURL() string { return p.endpoint }

// Location is the provider's Azure location.
func (p *Provider) Location() string { return p.opts.Location }

// ResourceGroup is the resource group inventoried.
func (p *Provider) ResourceGroup() string { return p.opts.ResourceGroup }

// Tags are the IMS's default tags.
func (p *Provider) Tags() map[string]string { return maps.Clone(p.opts.Tags) }

// SupportedVMSizes are the VM sizes offered, and DefaultVMSize the one
// used when a request names none.
func (p *Provider) SupportedVMSizes() []string { return slices.Clone(p.opts.SupportedVMSizes) }

// DefaultVMSize is the VM size used when a request names none.
func (p *Provider) DefaultVMSize() string { return p.opts.DefaultVMSize }

var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:provider:azure"))

// id derives a stable identifier from the provider's name and an Azure
// key; Azure resource ids are case-insensitive, so keys are lowercased.
func (p *Provider) id(key string) string {
	return uuid.NewSHA1(namespace, []byte(p.opts.Name+"/"+strings.ToLower(key))).String()
}

// DeploymentManagerID is the id of the provider's deployment manager in
// the inventory: the location.
func (p *Provider) DeploymentManagerID() string {
	return p.id("deployment-manager/" + p.opts.SubscriptionID + "/" + p.opts.ResourceGroup + "/" + p.opts.Location)
}

// ResourceID is the inventory id of the VM with the Azure resource id
// armID.
func (p *Provider) ResourceID(armID string) string { return p.id("vm/" + armID) }

func (p *Provider) poolID(subnet string) string { return p.id("pool/" + subnet) }

func (p *Provider) String() string {
	return fmt.Sprintf("azure provider %s (location %s, resource group %s)", p.opts.Name, p.opts.Location, p.opts.ResourceGroup)
}
