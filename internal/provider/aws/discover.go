package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/nephoran/o2ims/internal/ims"
)

// view is what one discovery read from EC2.
type view struct {
	vpc       ec2types.Vpc
	subnets   []ec2types.Subnet
	zones     []ec2types.AvailabilityZone
	instances []instance
	types     map[string]ec2types.InstanceTypeInfo
	// quota is the vCPU quota of standard instances (Capacity.FromQuotas)
	// and others the account's instances of those families outside the
	// inventory, which take from it.
	quota  *float64
	others []ec2types.Instance
}

// instance is an EC2 instance with the account that owns it.
type instance struct {
	ec2types.Instance
	owner string
}

// listed are the instance states inventoried: terminated instances stay
// visible for a while but are gone.
var listed = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// Discover reads the VPC, its subnets and their zones, the instances and
// their types, and reports them. Any failed call fails the discovery, so
// that a partial view is never published; the provider is then
// unhealthy.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	v, err := p.read(ctx)
	if err != nil {
		return ims.Snapshot{}, err
	}
	return p.snapshot(v), nil
}

func (p *Provider) read(ctx context.Context) (view, error) {
	v := view{types: map[string]ec2types.InstanceTypeInfo{}}
	vpcFilter := ec2types.Filter{Name: awssdk.String("vpc-id"), Values: []string{p.opts.VPCID}}

	var found []ec2types.Vpc
	vpcIn := &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{vpcFilter}, MaxResults: awssdk.Int32(1000)}
	err := pages(ctx, &vpcIn.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeVpcs(ctx, vpcIn)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeVpcs", err)
		}
		found = append(found, page.Vpcs...)
		return page.NextToken, nil
	})
	if err != nil {
		return v, err
	}
	if len(found) != 1 {
		return v, ims.Errorf(ims.EUNAVAILABLE, "%s: the VPC does not exist in the region (or the credentials' account cannot see it)", p)
	}
	v.vpc = found[0]

	subnetFilters := []ec2types.Filter{vpcFilter}
	configured := map[string]Subnet{}
	for _, s := range p.opts.Subnets {
		configured[s.ID] = s
	}
	if len(configured) > 0 {
		subnetFilters = append(subnetFilters, ec2types.Filter{Name: awssdk.String("subnet-id"), Values: slices.Sorted(maps.Keys(configured))})
	}
	subnetIn := &ec2.DescribeSubnetsInput{Filters: subnetFilters, MaxResults: awssdk.Int32(1000)}
	err = pages(ctx, &subnetIn.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeSubnets(ctx, subnetIn)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeSubnets", err)
		}
		v.subnets = append(v.subnets, page.Subnets...)
		return page.NextToken, nil
	})
	if err != nil {
		return v, err
	}
	seen := map[string]bool{}
	zoneNames := map[string]bool{}
	for _, s := range v.subnets {
		id, zone := awssdk.ToString(s.SubnetId), awssdk.ToString(s.AvailabilityZone)
		seen[id], zoneNames[zone] = true, true
		if c, ok := configured[id]; ok && c.Zone != "" && c.Zone != zone {
			return v, ims.Errorf(ims.EUNAVAILABLE, "%s: subnet %s is in %s, not %s as configured (config.vpc.subnets)", p, id, zone, c.Zone)
		}
	}
	for _, s := range p.opts.Subnets {
		if !seen[s.ID] {
			return v, ims.Errorf(ims.EUNAVAILABLE, "%s: subnet %s is not a subnet of the VPC (config.vpc.subnets)", p, s.ID)
		}
	}

	// DescribeAvailabilityZones has no paging: a region has few zones.
	if len(zoneNames) > 0 {
		out, err := p.ec2.describeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: slices.Sorted(maps.Keys(zoneNames))})
		if err != nil {
			return v, p.callErr(ctx, "DescribeAvailabilityZones", err)
		}
		v.zones = out.AvailabilityZones
	}

	filters := []ec2types.Filter{vpcFilter, {Name: awssdk.String("instance-state-name"), Values: listed}}
	if len(configured) > 0 {
		filters = append(filters, ec2types.Filter{Name: awssdk.String("subnet-id"), Values: slices.Sorted(maps.Keys(configured))})
	}
	for _, k := range slices.Sorted(maps.Keys(p.opts.Tags)) {
		filters = append(filters, ec2types.Filter{Name: awssdk.String("tag:" + k), Values: []string{p.opts.Tags[k]}})
	}
	instanceIn := &ec2.DescribeInstancesInput{Filters: filters, MaxResults: awssdk.Int32(1000)}
	err = pages(ctx, &instanceIn.NextToken, func(ctx context.Context) (*string, error) {
		page, err := p.ec2.describeInstances(ctx, instanceIn)
		if err != nil {
			return nil, p.callErr(ctx, "DescribeInstances", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				v.instances = append(v.instances, instance{Instance: in, owner: awssdk.ToString(r.OwnerId)})
			}
		}
		return page.NextToken, nil
	})
	if err != nil {
		return v, err
	}

	if p.opts.Capacity.FromQuotas {
		if err := p.readQuota(ctx, &v); err != nil {
			return v, err
		}
	}

	names := map[string]bool{}
	for _, in := range v.others {
		names[string(in.InstanceType)] = true
	}
	for _, t := range p.opts.SupportedInstanceTypes {
		names[t] = true
	}
	if p.opts.DefaultInstanceType != "" {
		names[p.opts.DefaultInstanceType] = true
	}
	for _, in := range v.instances {
		if in.InstanceType != "" {
			names[string(in.InstanceType)] = true
		}
	}
	// At most 100 instance types per request.
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(names)), 100) {
		in := &ec2.DescribeInstanceTypesInput{MaxResults: awssdk.Int32(100)}
		for _, n := range chunk {
			in.InstanceTypes = append(in.InstanceTypes, ec2types.InstanceType(n))
		}
		err := pages(ctx, &in.NextToken, func(ctx context.Context) (*string, error) {
			page, err := p.ec2.describeInstanceTypes(ctx, in)
			if err != nil {
				return nil, p.callErr(ctx, "DescribeInstanceTypes", err)
			}
			for _, t := range page.InstanceTypes {
				v.types[string(t.InstanceType)] = t
			}
			return page.NextToken, nil
		})
		if err != nil {
			return v, err
		}
	}
	return v, nil
}

// pages calls page until it answers no NextToken, passing each token on
// through *token. The SDK's paginators would do the same, but they take
// the client as an interface (see operations).
func pages(ctx context.Context, token **string, page func(context.Context) (*string, error)) error {
	seen := map[string]bool{}
	for {
		next, err := page(ctx)
		if err != nil {
			return err
		}
		if awssdk.ToString(next) == "" {
			return nil
		}
		if seen[*next] {
			return ims.Errorf(ims.EUNAVAILABLE, "AWS answered the same NextToken twice")
		}
		seen[*next] = true
		*token = next
	}
}

// The error codes that mean the credentials were refused, have expired,
// lack a permission, or that EC2 still throttled after every attempt.
var (
	refusedCodes   = []string{"AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "IncompleteSignature", "MissingAuthenticationToken", "InvalidAccessKeyId"}
	expiredCodes   = []string{"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
	forbiddenCodes = []string{"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"}
	throttleCodes  = []string{"RequestLimitExceeded", "Throttling", "ThrottlingException"}
)

// callErr turns a failed EC2 call into the provider's error, which the
// provider's health shows: it says what was refused and why, in words an
// operator can act on, with EC2's own code and message.
func (p *Provider) callErr(ctx context.Context, op string, err error) error {
	return p.apiErr(ctx, "ec2", p.endpoint, "the discovery", op, err)
}

// stackErr is callErr for a CloudFormation call; the error wraps the
// API's, so that its code can be told.
func (p *Provider) stackErr(ctx context.Context, op string, err error) error {
	e := p.apiErr(ctx, "cloudformation", p.cfnEndpoint, "the call", op, err)
	e.Err = err
	return e
}

func (p *Provider) apiErr(ctx context.Context, service, endpoint, what, op string, err error) *ims.Error {
	var (
		api   smithy.APIError
		netOp *net.OpError
		dns   *net.DNSError
	)
	reason := err.Error()
	switch {
	case errors.As(err, &api):
		code, msg := api.ErrorCode(), api.ErrorMessage()
		switch {
		case slices.Contains(refusedCodes, code):
			reason = fmt.Sprintf("the credentials were refused (%s: %s)", code, msg)
		case slices.Contains(expiredCodes, code):
			reason = fmt.Sprintf("the credentials have expired (%s: %s)", code, msg)
		case slices.Contains(forbiddenCodes, code):
			reason = fmt.Sprintf("the credentials may not call %s:%s (%s: %s)", service, op, code, msg)
		case slices.Contains(throttleCodes, code):
			reason = fmt.Sprintf("still throttled after %d attempts (%s: %s)", p.opts.MaxAttempts, code, msg)
		default:
			reason = fmt.Sprintf("%s: %s", code, msg)
		}
	case errors.Is(ctx.Err(), context.Canceled):
		reason = "cancelled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = fmt.Sprintf("%s took longer than its deadline", what)
		if what == "the discovery" {
			reason = fmt.Sprintf("the discovery took longer than %s", p.opts.Timeout)
		}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		reason = fmt.Sprintf("no answer within %s (%v)", p.opts.RequestTimeout, err)
	case errors.As(err, &dns):
		reason = fmt.Sprintf("the endpoint's name does not resolve (%v)", dns)
	case errors.As(err, &netOp):
		reason = fmt.Sprintf("the endpoint is unreachable (%v)", netOp)
	}
	return ims.Errorf(ims.EUNAVAILABLE, "%s: %s at %s: %s", p, op, endpoint, reason)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// states are the O2ims v11 administrative, operational and usage states
// of an instance state: only a running instance is enabled and in use; a
// stopped one is locked, and one stopping or terminating is shutting
// down.
func states(s ec2types.InstanceStateName) (admin, oper, usage string) {
	switch s {
	case ec2types.InstanceStateNameRunning:
		return "UNLOCKED", "ENABLED", "ACTIVE"
	case ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameShuttingDown:
		return "SHUTTINGDOWN", "DISABLED", "IDLE"
	case ec2types.InstanceStateNameStopped, ec2types.InstanceStateNameTerminated:
		return "LOCKED", "DISABLED", "IDLE"
	default: // pending
		return "UNLOCKED", "DISABLED", "IDLE"
	}
}

// consumes tells whether an instance in state s takes its type's vCPUs
// and memory from the budget: a pending one is about to.
func consumes(s ec2types.InstanceStateName) bool {
	return s == ec2types.InstanceStateNameRunning || s == ec2types.InstanceStateNamePending
}

// amount is compute in the units placement reads.
type amount struct{ cpuMillis, memBytes int64 }

func (a amount) add(b amount) amount {
	return amount{a.cpuMillis + b.cpuMillis, a.memBytes + b.memBytes}
}
func (a amount) sub(b amount) amount {
	return amount{a.cpuMillis - b.cpuMillis, a.memBytes - b.memBytes}
}

func (a amount) doc() map[string]any {
	return map[string]any{"cpuMillicores": a.cpuMillis, "memoryBytes": a.memBytes}
}

func budgetAmount(b Budget) amount { return amount{b.VCPUs * 1000, b.MemoryGiB << 30} }

func typeAmount(t ec2types.InstanceTypeInfo) amount {
	var a amount
	if t.VCpuInfo != nil {
		a.cpuMillis = int64(awssdk.ToInt32(t.VCpuInfo.DefaultVCpus)) * 1000
	}
	if t.MemoryInfo != nil {
		a.memBytes = awssdk.ToInt64(t.MemoryInfo.SizeInMiB) << 20
	}
	return a
}

// ratio rounds to three decimals so that tiny changes do not turn into
// inventory modifications.
func ratio(req, alloc int64) float64 {
	if alloc <= 0 {
		return 0
	}
	return math.Round(float64(req)/float64(alloc)*1000) / 1000
}

func tagMap(tags []ec2types.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return out
}

// privateIPs lists an instance's private addresses, the primary first.
func privateIPs(in ec2types.Instance) []string {
	out := []string{}
	if ip := awssdk.ToString(in.PrivateIpAddress); ip != "" {
		out = append(out, ip)
	}
	for _, nic := range in.NetworkInterfaces {
		for _, a := range nic.PrivateIpAddresses {
			if ip := awssdk.ToString(a.PrivateIpAddress); ip != "" && !slices.Contains(out, ip) {
				out = append(out, ip)
			}
		}
	}
	return out
}

// zone is one availability zone's pool being built.
type zone struct {
	name      string
	az        ec2types.AvailabilityZone
	subnets   []map[string]any
	instances int
	requested amount
}

func (p *Provider) snapshot(v view) ims.Snapshot {
	var snap ims.Snapshot
	region, vpcID := p.opts.Region, awssdk.ToString(v.vpc.VpcId)
	dmID := p.DeploymentManagerID()
	configured := map[string]Subnet{}
	for _, s := range p.opts.Subnets {
		configured[s.ID] = s
	}

	zones := map[string]*zone{}
	for _, az := range v.zones {
		name := awssdk.ToString(az.ZoneName)
		zones[name] = &zone{name: name, az: az}
	}
	for _, s := range v.subnets {
		z := zones[awssdk.ToString(s.AvailabilityZone)]
		if z == nil {
			// A zone DescribeAvailabilityZones left out: its state is
			// unknown, so it is not healthy.
			name := awssdk.ToString(s.AvailabilityZone)
			z = &zone{name: name, az: ec2types.AvailabilityZone{ZoneName: s.AvailabilityZone, ZoneId: s.AvailabilityZoneId}}
			zones[name] = z
		}
		id := awssdk.ToString(s.SubnetId)
		typ := configured[id].Type
		if typ == "" {
			typ = "private"
			if awssdk.ToBool(s.MapPublicIpOnLaunch) {
				typ = "public"
			}
		}
		z.subnets = append(z.subnets, map[string]any{"id": id, "cidr": awssdk.ToString(s.CidrBlock), "type": typ})
	}

	typeIDs := map[string]string{}
	typeID := func(name string) string {
		if id, ok := typeIDs[name]; ok {
			return id
		}
		id := p.id("instance-type/" + name)
		typeIDs[name] = id
		return id
	}

	// Instances, in the pools of their zones.
	for _, in := range v.instances {
		zoneName := ""
		if in.Placement != nil {
			zoneName = awssdk.ToString(in.Placement.AvailabilityZone)
		}
		z := zones[zoneName]
		if z == nil {
			// Not in a subnet inventoried, which the filters sent rule out.
			p.logger.Warn("instance outside the inventoried zones skipped", "instance", awssdk.ToString(in.InstanceId), "zone", zoneName)
			continue
		}
		var state ec2types.InstanceStateName
		if in.State != nil {
			state = in.State.Name
		}
		typ := string(in.InstanceType)
		z.instances++
		if consumes(state) {
			z.requested = z.requested.add(typeAmount(v.types[typ]))
		}
		admin, oper, usage := states(state)
		id := awssdk.ToString(in.InstanceId)
		tags := tagMap(in.Tags)
		ext := ims.Extensions{
			"provider":           ProviderType,
			"providerName":       p.opts.Name,
			"instanceId":         id,
			"instanceType":       typ,
			"state":              string(state),
			"adminState":         admin,
			"operationalState":   oper,
			"usageState":         usage,
			"healthy":            state == ec2types.InstanceStateNameRunning,
			"region":             region,
			"zone":               zoneName,
			"vpcId":              awssdk.ToString(in.VpcId),
			"subnetId":           awssdk.ToString(in.SubnetId),
			"imageId":            awssdk.ToString(in.ImageId),
			"architecture":       string(in.Architecture),
			"privateIpAddresses": privateIPs(in.Instance),
			"tags":               tags,
		}
		if in.LaunchTime != nil {
			ext["launchTime"] = in.LaunchTime.UTC().Format(time.RFC3339)
		}
		if ip := awssdk.ToString(in.PublicIpAddress); ip != "" {
			ext["publicIpAddress"] = ip
		}
		desc := "EC2 instance " + id + " (" + typ + ") in " + zoneName
		if name := tags["Name"]; name != "" {
			ext["name"] = name
			desc = "EC2 instance " + name + " (" + id + ", " + typ + ") in " + zoneName
		}
		snap.Resources = append(snap.Resources, ims.Resource{
			ResourceID:     p.instanceResourceID(id),
			ResourcePoolID: p.poolID(zoneName),
			ResourceTypeID: typeID(typ),
			GlobalAssetID:  "arn:aws:ec2:" + region + ":" + in.owner + ":instance/" + id,
			Description:    desc,
			Tags:           []string{"aws", "ec2-instance"},
			Groups:         []string{p.opts.Name},
			Extensions:     ext,
		})
	}

	// Pools. Zones with a budget of their own use it; the others share
	// the region's, each seeing what the others sharing it left.
	names := slices.Sorted(maps.Keys(zones))
	var sharedRequested amount
	for _, name := range names {
		if _, own := p.opts.Capacity.Zones[name]; !own {
			sharedRequested = sharedRequested.add(zones[name].requested)
		}
	}
	shared, sharing := budgetAmount(p.opts.Capacity.Budget), !p.opts.Capacity.Budget.IsZero()
	sharedScope := "region"
	if v.quota != nil {
		shared, sharing, sharedScope = p.quotaAmount(v, zones), true, "quota"
	}
	var total amount
	if sharing {
		total = shared
	}
	for _, name := range names {
		z := zones[name]
		sort.Slice(z.subnets, func(i, j int) bool { return z.subnets[i]["id"].(string) < z.subnets[j]["id"].(string) })
		zoneState := string(z.az.State)
		ext := ims.Extensions{
			"provider":            ProviderType,
			"providerName":        p.opts.Name,
			"deploymentManagerId": dmID,
			"region":              region,
			"zone":                name,
			"zoneId":              awssdk.ToString(z.az.ZoneId),
			"zoneState":           zoneState,
			"vpcId":               vpcID,
			"subnets":             z.subnets,
			"instanceCount":       z.instances,
			"healthy":             z.az.State == ec2types.AvailabilityZoneStateAvailable,
			"labels":              map[string]string{"topology.kubernetes.io/region": region, "topology.kubernetes.io/zone": name},
		}
		var alloc amount
		scope := ""
		if b, own := p.opts.Capacity.Zones[name]; own {
			alloc, scope = budgetAmount(b), "zone"
			total = total.add(alloc)
		} else if sharing {
			// The shared budget less what the other zones sharing it
			// take: this pool's free capacity is the region's.
			alloc, scope = shared.sub(sharedRequested.sub(z.requested)), sharedScope
			alloc.cpuMillis, alloc.memBytes = max(alloc.cpuMillis, 0), max(alloc.memBytes, 0)
		}
		if scope != "" {
			ext["capacity"] = map[string]any{"allocatable": alloc.doc(), "requested": z.requested.doc(), "budget": scope}
			ext["utilization"] = map[string]any{"cpu": ratio(z.requested.cpuMillis, alloc.cpuMillis), "memory": ratio(z.requested.memBytes, alloc.memBytes)}
		}
		snap.ResourcePools = append(snap.ResourcePools, ims.ResourcePool{
			ResourcePoolID: p.poolID(name),
			Name:           p.opts.Name + "-" + name,
			Description:    "Availability zone " + name + " of VPC " + vpcID + " (AWS provider " + p.opts.Name + ")",
			Extensions:     ext,
		})
	}

	// Resource types: those in use and those supported.
	for _, name := range slices.Sorted(maps.Keys(v.types)) {
		typeID(name)
	}
	for _, name := range p.opts.SupportedInstanceTypes {
		typeID(name)
	}
	for _, name := range slices.Sorted(maps.Keys(typeIDs)) {
		t, known := v.types[name]
		ext := ims.Extensions{
			"provider":     ProviderType,
			"providerName": p.opts.Name,
			"instanceType": name,
			"supported":    slices.Contains(p.opts.SupportedInstanceTypes, name),
			"default":      name == p.opts.DefaultInstanceType,
		}
		desc := "EC2 instance type " + name + " in " + region
		if known {
			a := typeAmount(t)
			ext["vcpus"] = a.cpuMillis / 1000
			ext["memoryMiB"] = a.memBytes >> 20
			var archs []string
			if t.ProcessorInfo != nil {
				for _, arch := range t.ProcessorInfo.SupportedArchitectures {
					archs = append(archs, string(arch))
				}
			}
			ext["architectures"] = archs
			desc = fmt.Sprintf("EC2 instance type %s in %s: %d vCPU, %s memory", name, region, a.cpuMillis/1000, mib(a.memBytes>>20))
		}
		family, _, _ := strings.Cut(name, ".")
		snap.ResourceTypes = append(snap.ResourceTypes, ims.ResourceType{
			ResourceTypeID: typeIDs[name],
			Name:           "EC2 " + name,
			Description:    desc,
			Vendor:         "Amazon Web Services",
			Model:          name,
			Version:        family,
			ResourceKind:   ims.ResourceKindLogical,
			ResourceClass:  ims.ResourceClassCompute,
			Extensions:     ext,
		})
	}

	capacity := map[string]any{"instances": len(v.instances)}
	if total != (amount{}) {
		maps.Copy(capacity, total.doc())
	}
	if v.quota != nil {
		capacity["quota"] = map[string]any{"code": standardQuota, "vcpus": *v.quota, "otherInstances": len(v.others)}
	}
	caps := map[string]any{"instanceTypes": append([]string{}, p.opts.SupportedInstanceTypes...)}
	if p.opts.DefaultInstanceType != "" {
		caps["defaultInstanceType"] = p.opts.DefaultInstanceType
	}
	snap.DeploymentManagers = []ims.DeploymentManager{{
		DeploymentManagerID: dmID,
		Name:                p.opts.Name,
		Description:         "AWS region " + region + ", VPC " + vpcID,
		ServiceURI:          p.endpoint,
		Capabilities:        caps,
		Capacity:            capacity,
		Extensions: ims.Extensions{
			"provider": ProviderType, "providerName": p.opts.Name, "region": region, "vpcId": vpcID,
			"vpcCidr": awssdk.ToString(v.vpc.CidrBlock), "zones": names,
		},
	}}

	sort.Slice(snap.Resources, func(i, j int) bool { return snap.Resources[i].ResourceID < snap.Resources[j].ResourceID })
	return snap
}

// mib renders MiB as GiB when whole.
func mib(n int64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d GiB", n/1024)
	}
	return fmt.Sprintf("%d MiB", n)
}
