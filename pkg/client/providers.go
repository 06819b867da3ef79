package o2

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"
)

// ProviderTypeKubernetes is the type of a provider that is a Kubernetes
// cluster. Its nodes become resources and the cluster a deployment
// manager, named as the provider, that CNF instances are deployed onto.
const ProviderTypeKubernetes = "kubernetes"

// ProviderTypeGitOps is the type of a provider that is a GitOps
// repository: a deployment manager, named as the provider, that
// deployments naming it are committed to as kpt packages.
const ProviderTypeGitOps = "gitops"

// ProviderTypePorch is the type of a provider that is Porch (Nephio R5):
// deployments naming its deployment manager become package revisions
// cloned from a blueprint, rendered, proposed and (with AutoApprove)
// published.
const ProviderTypePorch = "porch"

// ProviderTypeAWS is the type of a provider that is a VPC of an AWS
// region: the availability zones of its subnets become resource pools,
// its EC2 instances resources, the instance types resource types and the
// region a deployment manager named as the provider.
const ProviderTypeAWS = "aws"

// ProviderTypeAzure is the type of a provider that is a resource group
// of an Azure subscription: the subnets of its virtual network become
// resource pools, its VMs resources, the VM sizes resource types and the
// location a deployment manager named as the provider.
const ProviderTypeAzure = "azure"

// ProviderOrigin tells where a provider was defined.
type ProviderOrigin string

// The origins of Provider.Origin.
const (
	// ProviderBuiltin is built into the IMS, such as the host it runs on.
	ProviderBuiltin ProviderOrigin = "builtin"
	// ProviderFromConfig comes from the IMS's configuration file.
	ProviderFromConfig ProviderOrigin = "config"
	// ProviderFromAPI was registered with ProviderService.Create; only
	// these can be deleted through the API.
	ProviderFromAPI ProviderOrigin = "api"
)

// ProviderConfig is how the IMS reaches a provider's infrastructure: for
// a Kubernetes cluster an inline kubeconfig document, stored encrypted,
// or the path of one on the server; for a GitOps repository its URL; for
// AWS the region, an access key and the VPC. Credentials are never
// returned by the IMS.
type ProviderConfig struct {
	// Kubeconfig is a kubeconfig document; the IMS needs a secrets key
	// (O2IMS_SECRETS_KEY) to store it, else it answers 422.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// KubeconfigPath names a kubeconfig file of the server's provider
	// credentials directory, relative to it (a server without one answers
	// 422). An inline Kubeconfig must carry its credentials inline: no
	// exec or auth-provider plugins, no file references (else 400).
	KubeconfigPath string `json:"kubeconfigPath,omitempty"`
	// Context is the kubeconfig context to use; empty selects the
	// current context of the document.
	Context string `json:"context,omitempty"`

	// Delivery "gitops" sends the deployments placed on a cluster's pools
	// through Repository (with Branch, Directory, Username, Password),
	// which the cluster's own GitOps agent applies; empty or "direct"
	// applies them.
	Delivery string `json:"delivery,omitempty"`

	// Repository is a GitOps repository's http(s) URL (ProviderTypeGitOps,
	// or a cluster with Delivery "gitops").
	Repository string `json:"repository,omitempty"`
	// Branch receives the commits (default main).
	Branch string `json:"branch,omitempty"`
	// Directory holds the packages (default deployments).
	Directory string `json:"directory,omitempty"`
	// Username and Password (or a token) authenticate the pushes; the
	// password is stored encrypted (the IMS needs a secrets key).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// TargetCluster names the Kubernetes provider whose cluster applies
	// the repository; deployments through it are followed there.
	TargetCluster string `json:"targetCluster,omitempty"`

	// Porch (ProviderTypePorch, with the Kubeconfig of the API server
	// serving it): Repository names the Porch Repository of the
	// deployments; the blueprint is Blueprint in BlueprintRepository; the
	// package revisions are in Namespace; AutoApprove publishes them.
	BlueprintRepository string `json:"blueprintRepository,omitempty"`
	Blueprint           string `json:"blueprint,omitempty"`
	Namespace           string `json:"namespace,omitempty"`
	AutoApprove         bool   `json:"autoApprove,omitempty"`

	// AWS (ProviderTypeAWS): Region, Credentials and VPC are required.
	// Region is an AWS region such as us-east-1.
	Region string `json:"region,omitempty"`
	// Credentials are stored encrypted: the IMS needs a secrets key
	// (O2IMS_SECRETS_KEY), else it answers 422.
	Credentials *AWSCredentials `json:"credentials,omitempty"`
	// VPC is the VPC inventoried.
	VPC *AWSVPC `json:"vpc,omitempty"`
	// InstanceTypes are the instance types offered, each a resource type
	// even while no instance uses it.
	InstanceTypes *AWSInstanceTypes `json:"instance_types,omitempty"`
	// Tags are the IMS's default tags: only the instances carrying them
	// all are inventoried.
	Tags *AWSTags `json:"tags,omitempty"`
	// Capacity is the compute budget placement sees in the pools.
	Capacity *AWSCapacity `json:"capacity,omitempty"`
	// Endpoint replaces the region's EC2 endpoint URL (a VPC interface
	// endpoint, a test server). An endpoint that does not answer, or
	// refuses the credentials, makes the provider unhealthy; it does not
	// fail Create.
	Endpoint string `json:"endpoint,omitempty"`

	// Azure (ProviderTypeAzure): SubscriptionID, the service principal
	// (TenantID, ClientID, ClientSecret), ResourceGroup, Location and
	// Networking.VNetName are required; Tags and Capacity (without
	// Zones) as for AWS. ClientSecret is stored encrypted (the IMS needs
	// a secrets key, else it answers 422) and never returned.
	SubscriptionID string           `json:"subscriptionId,omitempty"`
	TenantID       string           `json:"tenantId,omitempty"`
	ClientID       string           `json:"clientId,omitempty"`
	ClientSecret   string           `json:"clientSecret,omitempty"`
	ResourceGroup  string           `json:"resourceGroup,omitempty"`
	Location       string           `json:"location,omitempty"`
	Networking     *AzureNetworking `json:"networking,omitempty"`
	VMSizes        *AzureVMSizes    `json:"vmSizes,omitempty"`
	// Cloud is AzurePublic (the default), AzureChina or AzureGovernment.
	Cloud string `json:"cloud,omitempty"`
}

// AzureNetworking is the virtual network of an Azure provider; Subnets,
// when given, restrict the inventory to them.
type AzureNetworking struct {
	VNetName string        `json:"vnetName"`
	Subnets  []AzureSubnet `json:"subnets,omitempty"`
}

// AzureSubnet is a subnet of the virtual network and its purpose,
// compute (the default) or storage.
type AzureSubnet struct {
	Name    string `json:"name"`
	Purpose string `json:"purpose,omitempty"`
}

// AzureVMSizes are the VM sizes offered, and the default one.
type AzureVMSizes struct {
	Supported []string `json:"supported,omitempty"`
	Default   string   `json:"default,omitempty"`
}

// AWSCredentials are an AWS access key, with the session token of
// temporary (STS) credentials.
type AWSCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

// AWSVPC is the VPC an AWS provider inventories. Subnets, when given,
// restrict the inventory to them; else every subnet of the VPC counts.
type AWSVPC struct {
	VPCID   string      `json:"vpcId"`
	Subnets []AWSSubnet `json:"subnets,omitempty"`
}

// AWSSubnet is a subnet of the VPC: its id, availability zone (a subnet
// found elsewhere makes the provider unhealthy) and type, "public" or
// "private".
type AWSSubnet struct {
	ID   string `json:"id"`
	Zone string `json:"zone,omitempty"`
	Type string `json:"type,omitempty"`
}

// AWSInstanceTypes are the instance types offered; Default is one of
// Supported.
type AWSInstanceTypes struct {
	Supported []string `json:"supported,omitempty"`
	Default   string   `json:"default,omitempty"`
}

// AWSTags are the IMS's default tags.
type AWSTags struct {
	Default map[string]string `json:"default,omitempty"`
}

// AWSBudget is an amount of compute.
type AWSBudget struct {
	VCPUs     int64 `json:"vcpus"`
	MemoryGiB int64 `json:"memoryGiB"`
}

// AWSCapacity is the compute the IMS may use in the region. Each pool's
// allocatable capacity is its zone's budget in Zones, or else the budget
// VCPUs and MemoryGiB that such zones share, less what the others take;
// its requested capacity is what its running and pending instances'
// types take.
type AWSCapacity struct {
	// FromQuotas takes the shared vCPUs from the account's Service
	// Quotas (running on-demand standard instances) instead of VCPUs.
	FromQuotas bool                 `json:"fromQuotas,omitempty"`
	VCPUs      int64                `json:"vcpus,omitempty"`
	MemoryGiB  int64                `json:"memoryGiB,omitempty"`
	Zones      map[string]AWSBudget `json:"zones,omitempty"`
}

// ProviderRequest is a provider to register with ProviderService.Create.
type ProviderRequest struct {
	// Name is unique among the providers: 1 to 63 lowercase letters,
	// digits, '-' or '.'. The cluster's deployment manager is named after
	// it.
	Name string `json:"name"`
	// Type is the provider type; empty selects ProviderTypeKubernetes.
	Type string `json:"type"`
	// Config tells how to reach the infrastructure: for a cluster exactly
	// one of Kubeconfig and KubeconfigPath, for a GitOps repository its
	// Repository, for AWS Region, Credentials and VPC (else 400).
	Config ProviderConfig `json:"config"`
}

// MarshalJSON returns r as the request body of the IMS, with the default
// type filled in.
func (r ProviderRequest) MarshalJSON() ([]byte, error) {
	type plain ProviderRequest
	if r.Type == "" {
		r.Type = ProviderTypeKubernetes
	}
	return json.Marshal(plain(r))
}

// check rejects a request the IMS would refuse for want of a name.
func (r ProviderRequest) check() error {
	if r.Name == "" {
		return errors.New("o2: ProviderRequest.Name is empty")
	}
	return nil
}

// ProviderStatus is how the discovery of one provider fares.
type ProviderStatus struct {
	// ProviderID identifies the provider.
	ProviderID string `json:"providerId"`
	// Name is the provider's name.
	Name string `json:"name"`
	// Healthy tells whether the last discovery succeeded.
	Healthy bool `json:"healthy"`
	// LastAttempt is when discovery was last attempted; zero if never.
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	// LastSync is when discovery last succeeded; zero if never.
	LastSync time.Time `json:"lastSync,omitzero"`
	// Error describes why the provider is unhealthy.
	Error string `json:"error,omitempty"`
}

// Provider is an infrastructure provider of the IMS: the host it runs on,
// a Kubernetes cluster, a GitOps repository, Porch or an AWS region. Its
// credentials are never part of it.
type Provider struct {
	// ProviderID identifies the provider.
	ProviderID string `json:"providerId"`
	// Name is the provider's unique name.
	Name string `json:"name"`
	// Type is the provider type, such as ProviderTypeKubernetes.
	Type string `json:"type"`
	// Origin tells where the provider was defined.
	Origin ProviderOrigin `json:"origin"`
	// Endpoint is where the infrastructure is reached; for Kubernetes the
	// API server URL, for AWS the EC2 endpoint.
	Endpoint string `json:"endpoint,omitempty"`
	// CreatedAt is when the provider was registered; zero for built-in
	// providers.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Status is how its discovery fares; nil when the answer left it out.
	Status *ProviderStatus `json:"status,omitempty"`
}

// ProviderService registers, reads and removes the infrastructure
// providers of the IMS. Get one with Client.Providers.
type ProviderService struct {
	c   *Client
	col collection[Provider]
}

// Providers returns the service for the infrastructure providers.
func (c *Client) Providers() *ProviderService {
	return &ProviderService{c: c, col: newCollection[Provider](c, "provider", NephoranAPIPrefix, "providers")}
}

// List returns the page of providers opts select.
func (s *ProviderService) List(ctx context.Context, opts ListOptions) (*Page[Provider], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every provider opts select, fetching pages of
// opts.Limit as needed.
func (s *ProviderService) All(ctx context.Context, opts ListOptions) iter.Seq2[Provider, error] {
	return s.col.all(ctx, opts)
}

// Get returns the provider with identifier id.
func (s *ProviderService) Get(ctx context.Context, id string) (*Provider, error) {
	return s.col.get(ctx, id)
}

// Create registers a provider and returns it; its inventory (resource
// pools, resources, a deployment manager) appears within seconds. It is
// never retried. An invalid request is a ProblemError with status 400; a
// name in use, one with status 409 (IsConflict); an inline kubeconfig or
// AWS access key the IMS cannot store (no secrets key), one with status
// 422 (IsUnprocessable).
func (s *ProviderService) Create(ctx context.Context, req ProviderRequest) (*Provider, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return s.col.create(ctx, req)
}

// Delete removes the provider with identifier id and every object of the
// inventory it reported. Providers that did not come from the API cannot
// be deleted (409).
func (s *ProviderService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// Health returns the discovery status of every provider.
func (s *ProviderService) Health(ctx context.Context) ([]ProviderStatus, error) {
	var out []ProviderStatus
	if err := s.c.getJSON(ctx, s.c.resolve(NephoranAPIPrefix, "providers", "health"), &out); err != nil {
		return nil, err
	}
	return out, nil
}
