// Package aws is the inventory provider for an Amazon Web Services
// region: one VPC of one account, read through the EC2 API. The
// availability zones holding the VPC's subnets become resource pools,
// the VPC's EC2 instances (those carrying the IMS's default tags, when
// configured) become resources in their zone's pool, the instance types
// in use or supported become resource types, and the region is a
// deployment manager. Free capacity per pool comes from a configured
// budget, less what the running instances take.
//
// Discovery only reads (Describe* calls). StackRealizer creates, updates
// and deletes CloudFormation stacks in a provider's VPC for provisioning
// requests (stack.go, realizer.go); their instances are then discovered
// like any other.
package aws

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/tracing"
)

// ProviderType is the provider type, in the extensions.provider of the
// inventory objects it reports (extensions.providerName is its name).
const ProviderType = "aws"

// Credentials are an access key, with the session token of temporary
// (STS) credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// Subnet is a configured subnet of the VPC; Zone and Type (public or
// private) are what the operator says of it: a zone that differs from
// the subnet's real one fails discovery.
type Subnet struct {
	ID, Zone, Type string
}

// Budget is an amount of compute: vCPUs and GiB of memory.
type Budget struct {
	VCPUs     int64
	MemoryGiB int64
}

// IsZero tells whether no budget is set.
func (b Budget) IsZero() bool { return b.VCPUs == 0 && b.MemoryGiB == 0 }

// Capacity is the compute the IMS may use in the region, which placement
// sees as each pool's allocatable capacity. Zones gives a zone its own
// budget; the zones without one share Budget (the account's budget in
// the region). With neither, pools carry no capacity.
//
// FromQuotas takes the shared vCPUs from the account's Service Quotas
// instead: L-1216C47A, Running On-Demand Standard (A, C, D, H, I, M, R,
// T, Z) instances, less what the account's other running instances of
// those families take in the region. Memory is then Budget's MemoryGiB
// when set, else what those vCPUs bring with the supported instance type
// of the most memory per vCPU.
type Capacity struct {
	Budget
	Zones      map[string]Budget
	FromQuotas bool
}

// Options configure one provider.
type Options struct {
	// Name is the provider's name, unique in this IMS.
	Name string
	// Region is the AWS region, such as us-east-1.
	Region string
	// Endpoint overrides the EC2, CloudFormation and Service Quotas
	// endpoint URL (private endpoints, tests).
	Endpoint string
	// Credentials are used when set. Otherwise CredentialsFile (a shared
	// credentials file, its Profile or "default") when set, else the
	// SDK's default chain (environment, shared files, SSO, web identity,
	// container and instance roles).
	Credentials     *Credentials
	CredentialsFile string
	Profile         string
	// SelfContained, for registrations through the API, requires inline
	// Credentials: neither the server's files nor its environment or
	// instance role may lend them.
	SelfContained bool
	// VPCID is the VPC inventoried; Subnets, when set, restrict the
	// inventory to those subnets (else every subnet of the VPC).
	VPCID   string
	Subnets []Subnet
	// SupportedInstanceTypes are resource types even when no instance
	// uses them; DefaultInstanceType must be one of them.
	SupportedInstanceTypes []string
	DefaultInstanceType    string
	// Tags are the IMS's default tags: only instances carrying all of
	// them are inventoried (all of the VPC's when empty).
	Tags map[string]string
	// Capacity is the compute budget placement sees.
	Capacity Capacity
	// Timeout bounds one discovery (default 2m); RequestTimeout one HTTP
	// attempt (default 30s).
	Timeout        time.Duration
	RequestTimeout time.Duration
	// MaxAttempts (default 4) and MaxBackoff (default 5s) bound the SDK's
	// standard retryer, which retries throttling and transient errors.
	MaxAttempts int
	MaxBackoff  time.Duration
}

// Provider publishes one VPC's inventory and runs the CloudFormation
// stacks provisioned in it.
type Provider struct {
	opts     Options
	ec2      operations
	cfn      stackOperations
	endpoint string
	// cfnEndpoint is the CloudFormation endpoint (Endpoint, when set,
	// serves both APIs).
	cfnEndpoint string
	logger      *slog.Logger
}

// operations are the EC2 (and Service Quotas) calls the provider makes:
// method values of the client, not the client itself nor an interface it
// implements. The server's templates use reflection, so the linker keeps every exported
// method of a type it must keep for reflection: a *ec2.Client reachable
// that way (as a field, or converted to an interface, as the SDK's
// paginators do) would bring all of EC2's hundreds of operations into
// the binary, some 35 MB.
type operations struct {
	describeVpcs              func(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	describeSubnets           func(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	describeAvailabilityZones func(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	describeInstances         func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	describeInstanceTypes     func(context.Context, *ec2.DescribeInstanceTypesInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
	getServiceQuota           func(context.Context, *servicequotas.GetServiceQuotaInput, ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
}

var (
	validRegion       = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	validVPC          = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	validSubnet       = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	validInstanceType = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.[a-z0-9-]+$`)
	validAccessKeyID  = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	validZoneSuffix   = regexp.MustCompile(`^(-[a-z0-9]+)*[a-z]$`)
)

// validate checks the options in the words of the API's config keys.
func (o Options) validate() error {
	bad := func(format string, a ...any) error { return ims.Errorf(ims.EINVALID, format, a...) }
	switch {
	case o.Name == "":
		return bad("a provider name is required")
	case o.Region == "":
		return bad("config.region: required (an AWS region such as us-east-1)")
	case !validRegion.MatchString(o.Region):
		return bad("config.region: %q is not an AWS region name (such as us-east-1)", trunc(o.Region))
	case o.VPCID == "":
		return bad("config.vpc.vpcId: required (the VPC whose subnets and instances are inventoried)")
	case !validVPC.MatchString(o.VPCID):
		return bad("config.vpc.vpcId: %q is not a VPC id (vpc- and 8 or 17 hexadecimal digits)", trunc(o.VPCID))
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(o.Endpoint) > 2048 {
			return bad("config.endpoint: %q is not an http(s) URL without credentials, query or fragment", trunc(o.Endpoint))
		}
	}
	if err := o.validateCredentials(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, s := range o.Subnets {
		switch {
		case !validSubnet.MatchString(s.ID):
			return bad("config.vpc.subnets[%d].id: %q is not a subnet id (subnet- and 8 or 17 hexadecimal digits)", i, trunc(s.ID))
		case seen[s.ID]:
			return bad("config.vpc.subnets[%d].id: %s is listed twice", i, s.ID)
		case s.Zone != "" && !o.inRegion(s.Zone):
			return bad("config.vpc.subnets[%d].zone: %q is not an availability zone of region %s", i, trunc(s.Zone), o.Region)
		case s.Type != "" && s.Type != "public" && s.Type != "private":
			return bad("config.vpc.subnets[%d].type: %q is neither public nor private", i, trunc(s.Type))
		}
		seen[s.ID] = true
	}
	if len(o.SupportedInstanceTypes) > 100 {
		return bad("config.instance_types.supported: at most 100 instance types")
	}
	for i, t := range o.SupportedInstanceTypes {
		if !validInstanceType.MatchString(t) || len(t) > 64 {
			return bad("config.instance_types.supported[%d]: %q is not an instance type name (such as m5.large)", i, trunc(t))
		}
	}
	if t := o.DefaultInstanceType; t != "" {
		if !validInstanceType.MatchString(t) || len(t) > 64 {
			return bad("config.instance_types.default: %q is not an instance type name (such as m5.large)", trunc(t))
		}
		if len(o.SupportedInstanceTypes) > 0 && !slices.Contains(o.SupportedInstanceTypes, t) {
			return bad("config.instance_types.default: %s is not among the supported instance types", t)
		}
	}
	if len(o.Tags) > 50 {
		return bad("config.tags.default: at most 50 tags")
	}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		switch {
		case k == "" || len(k) > 128:
			return bad("config.tags.default: a tag key has 1 to 128 characters")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return bad("config.tags.default: %q: the aws: prefix is reserved by AWS", trunc(k))
		case len(o.Tags[k]) > 256:
			return bad("config.tags.default.%s: a tag value has at most 256 characters", trunc(k))
		}
	}
	budget := func(key string, b Budget) error {
		if b.VCPUs < 0 || b.MemoryGiB < 0 || (b.VCPUs == 0) != (b.MemoryGiB == 0) {
			return bad("%s: vcpus and memoryGiB are both positive (or both absent)", key)
		}
		if b.VCPUs > 1<<20 || b.MemoryGiB > 1<<24 {
			return bad("%s: implausibly large", key)
		}
		return nil
	}
	switch {
	case !o.Capacity.FromQuotas:
		if err := budget("config.capacity", o.Capacity.Budget); err != nil {
			return err
		}
	case o.Capacity.VCPUs != 0:
		return bad("config.capacity: with fromQuotas the vCPUs are the quota's: give memoryGiB only, or nothing")
	case o.Capacity.MemoryGiB < 0 || o.Capacity.MemoryGiB > 1<<24:
		return bad("config.capacity.memoryGiB: between 1 and %d", 1<<24)
	}
	for _, z := range slices.Sorted(maps.Keys(o.Capacity.Zones)) {
		if !o.inRegion(z) {
			return bad("config.capacity.zones: %q is not an availability zone of region %s", trunc(z), o.Region)
		}
		if err := budget("config.capacity.zones."+z, o.Capacity.Zones[z]); err != nil {
			return err
		}
		if o.Capacity.Zones[z].IsZero() {
			return bad("config.capacity.zones.%s: vcpus and memoryGiB are required", z)
		}
	}
	return nil
}

func (o Options) validateCredentials() error {
	bad := func(format string, a ...any) error { return ims.Errorf(ims.EINVALID, format, a...) }
	c := o.Credentials
	if c == nil {
		if o.SelfContained {
			return bad("config.credentials: accessKeyId and secretAccessKey are required for a provider registered through the API (they are stored encrypted); the SDK's default credential chain serves only providers of the configuration file")
		}
		if o.Profile != "" && o.CredentialsFile == "" {
			return nil // a profile of the default shared files
		}
		if o.CredentialsFile != "" {
			if st, err := os.Stat(o.CredentialsFile); err != nil || !st.Mode().IsRegular() {
				return bad("credentialsFile: %s is not a readable file", o.CredentialsFile)
			}
		}
		return nil
	}
	switch {
	case o.CredentialsFile != "" || o.Profile != "":
		return bad("config.credentials: give credentials or credentialsFile (and profile), not both")
	case c.AccessKeyID == "" || c.SecretAccessKey == "":
		return bad("config.credentials: accessKeyId and secretAccessKey are both required")
	case !validAccessKeyID.MatchString(c.AccessKeyID):
		return bad("config.credentials.accessKeyId: not an AWS access key id (16 to 128 capital letters and digits, such as AKIA…)")
	case len(c.SecretAccessKey) > 128:
		return bad("config.credentials.secretAccessKey: at most 128 characters")
	case len(c.SessionToken) > 8192:
		return bad("config.credentials.sessionToken: at most 8192 characters")
	}
	return nil
}

// inRegion tells whether zone names an availability (or local) zone of
// the region: the region's name and a letter, or a local zone's suffix.
func (o Options) inRegion(zone string) bool {
	rest, ok := strings.CutPrefix(zone, o.Region)
	return ok && len(zone) <= 64 && validZoneSuffix.MatchString(rest)
}

func trunc(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}

// New returns a provider for the VPC; it contacts AWS only when
// discovering, so an unreachable endpoint is an unhealthy provider, not
// a failed registration.
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
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 4
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	cfg, err := awsConfig(opts)
	if err != nil {
		return nil, err
	}
	if opts.Endpoint != "" {
		// One URL for every service the provider calls.
		cfg.BaseEndpoint = awssdk.String(opts.Endpoint)
	}
	client := ec2.NewFromConfig(cfg)
	endpoint := opts.Endpoint
	if endpoint == "" {
		endpoint = "https://ec2." + opts.Region + ".amazonaws.com"
		if strings.HasPrefix(opts.Region, "cn-") {
			endpoint += ".cn"
		}
	}
	quotas := servicequotas.NewFromConfig(cfg)
	ops := operations{
		describeVpcs: client.DescribeVpcs, describeSubnets: client.DescribeSubnets, describeAvailabilityZones: client.DescribeAvailabilityZones,
		describeInstances: client.DescribeInstances, describeInstanceTypes: client.DescribeInstanceTypes, getServiceQuota: quotas.GetServiceQuota,
	}
	stacks := cloudformation.NewFromConfig(cfg)
	cfnOps := stackOperations{
		createStack: stacks.CreateStack, updateStack: stacks.UpdateStack, deleteStack: stacks.DeleteStack,
		describeStacks: stacks.DescribeStacks, describeStackEvents: stacks.DescribeStackEvents, describeStackResources: stacks.DescribeStackResources,
	}
	p := &Provider{opts: opts, ec2: ops, cfn: cfnOps, endpoint: endpoint, logger: logger}
	p.cfnEndpoint = p.endpointOf("cloudformation")
	return p, nil
}

// awsConfig is the SDK configuration of opts: the region, a bounded
// standard retryer, an HTTP client that traces every call, and the
// credentials.
func awsConfig(opts Options) (awssdk.Config, error) {
	retryer := func() awssdk.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = opts.MaxAttempts
			o.MaxBackoff = opts.MaxBackoff
		})
	}
	httpClient := &http.Client{
		Transport: tracing.Transport(awshttp.NewBuildableClient().GetTransport()),
		Timeout:   opts.RequestTimeout,
	}
	if c := opts.Credentials; c != nil {
		// Inline credentials: nothing of the server's environment or
		// files takes part.
		return awssdk.Config{
			Region:      opts.Region,
			Credentials: awssdk.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)),
			Retryer:     retryer,
			HTTPClient:  httpClient,
			AppID:       "nephoran-o2ims",
		}, nil
	}
	if opts.SelfContained {
		return awssdk.Config{}, ims.Errorf(ims.EINVALID, "config.credentials: required for a provider registered through the API")
	}
	// The SDK's own client, so that a CA bundle of the environment or
	// profile (AWS_CA_BUNDLE, ca_bundle) applies; wrapped below.
	load := []func(*config.LoadOptions) error{
		config.WithRegion(opts.Region), config.WithRetryer(retryer), config.WithHTTPClient(awshttp.NewBuildableClient()), config.WithAppID("nephoran-o2ims"),
	}
	if opts.CredentialsFile != "" {
		// Only that file, and its profile before the environment's keys.
		load = append(load, config.WithSharedCredentialsFiles([]string{opts.CredentialsFile}), config.WithSharedConfigFiles([]string{}),
			config.WithSharedConfigProfile(cmp.Or(opts.Profile, "default")))
	} else if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	// Reads files and the environment only; credentials are fetched
	// when first used.
	cfg, err := config.LoadDefaultConfig(context.Background(), load...)
	if err != nil {
		return awssdk.Config{}, ims.Errorf(ims.EINVALID, "aws credentials: %v", err)
	}
	if bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = &http.Client{Transport: tracing.Transport(bc.GetTransport()), Timeout: opts.RequestTimeout}
	}
	return cfg, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opts.Name }

// ServerURL is the EC2 endpoint the provider calls.
func (p *Provider) ServerURL() string { return p.endpoint }

// Region is the provider's region.
func (p *Provider) Region() string { return p.opts.Region }

// DeploymentManagerID is the id of the deployment manager the provider
// reports for its region and VPC.
func (p *Provider) DeploymentManagerID() string {
	return p.id("deployment-manager/" + p.opts.Region + "/" + p.opts.VPCID)
}

// instanceResourceID is the id of an instance's resource in the
// inventory.
func (p *Provider) instanceResourceID(instanceID string) string {
	return p.id("instance/" + instanceID)
}

// poolID is the id of a zone's resource pool.
func (p *Provider) poolID(zone string) string {
	return p.id("pool/" + p.opts.Region + "/" + zone)
}

var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:provider:aws"))

// id derives a stable identifier from the provider's name and an AWS key.
func (p *Provider) id(key string) string {
	return uuid.NewSHA1(namespace, []byte(p.opts.Name+"/"+key)).String()
}

func (p *Provider) String() string {
	return fmt.Sprintf("aws provider %s (region %s, VPC %s)", p.opts.Name, p.opts.Region, p.opts.VPCID)
}
