package aws

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/provider/aws/ec2test"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testVPC    = "vpc-0a1b2c3d4e5f67890"
	otherVPC   = "vpc-0fedcba9876543210"
	subnetA    = "subnet-0aaaaaaaaaaaaaaa1"
	subnetA2   = "subnet-0aaaaaaaaaaaaaaa2"
	subnetB    = "subnet-0bbbbbbbbbbbbbbb1"
	subnetC    = "subnet-0ccccccccccccccc1"
)

var (
	imsTags = map[string]string{"ManagedBy": "o2ims", "Project": "nephoran"}
	launch  = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
)

func tagged(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range imsTags {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// world serves the integration guide's layout: a VPC with a public and a
// private subnet in us-east-1a and a private one in us-east-1b, another
// VPC in us-east-1c, and instances of which four are the IMS's.
func world(t *testing.T, opts ec2test.Options) *ec2test.Server {
	t.Helper()
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.SecretAccessKey = testKeyID, testSecret
	}
	s := ec2test.New(opts)
	t.Cleanup(s.Close)
	s.AddZone(ec2test.Zone{Name: "us-east-1a", ID: "use1-az1"}, ec2test.Zone{Name: "us-east-1b", ID: "use1-az2"}, ec2test.Zone{Name: "us-east-1c", ID: "use1-az3"})
	s.AddVPC(ec2test.VPC{ID: testVPC, CIDR: "10.0.0.0/16"}, ec2test.VPC{ID: otherVPC, CIDR: "172.16.0.0/16"})
	s.AddSubnet(
		ec2test.Subnet{ID: subnetA, VPCID: testVPC, Zone: "us-east-1a", CIDR: "10.0.1.0/24", MapPublicIPOnLaunch: true},
		ec2test.Subnet{ID: subnetA2, VPCID: testVPC, Zone: "us-east-1a", CIDR: "10.0.2.0/24"},
		ec2test.Subnet{ID: subnetB, VPCID: testVPC, Zone: "us-east-1b", CIDR: "10.0.3.0/24"},
		ec2test.Subnet{ID: subnetC, VPCID: otherVPC, Zone: "us-east-1c", CIDR: "172.16.1.0/24"},
	)
	s.AddInstance(
		ec2test.Instance{ID: "i-0000000000000000a", ImageID: "ami-0123456789abcdef0", Type: "t3.medium", SubnetID: subnetA, State: "running",
			PrivateIPs: []string{"10.0.1.10", "10.0.1.11"}, PublicIP: "54.0.0.10", LaunchTime: launch, Tags: tagged(map[string]string{"Name": "edge-1"})},
		ec2test.Instance{ID: "i-0000000000000000b", ImageID: "ami-0123456789abcdef0", Type: "c5.xlarge", SubnetID: subnetA2, State: "pending",
			PrivateIPs: []string{"10.0.2.20"}, LaunchTime: launch.Add(time.Hour), Tags: tagged(nil)},
		ec2test.Instance{ID: "i-0000000000000000c", ImageID: "ami-0123456789abcdef0", Type: "m5.large", SubnetID: subnetB, State: "running",
			PrivateIPs: []string{"10.0.3.30"}, LaunchTime: launch, Tags: tagged(nil)},
		ec2test.Instance{ID: "i-0000000000000000d", ImageID: "ami-0123456789abcdef0", Type: "m5.large", SubnetID: subnetB, State: "stopped",
			PrivateIPs: []string{"10.0.3.31"}, LaunchTime: launch, Tags: tagged(nil)},
		// Not the IMS's: untagged, terminated, or in another VPC.
		ec2test.Instance{ID: "i-0000000000000000e", Type: "m5.xlarge", SubnetID: subnetA, State: "running", PrivateIPs: []string{"10.0.1.50"}, LaunchTime: launch},
		ec2test.Instance{ID: "i-0000000000000000f", Type: "m5.large", SubnetID: subnetA, State: "terminated", LaunchTime: launch, Tags: tagged(nil)},
		ec2test.Instance{ID: "i-00000000000000010", Type: "m5.large", SubnetID: subnetC, State: "running", PrivateIPs: []string{"172.16.1.5"}, LaunchTime: launch, Tags: tagged(nil)},
	)
	return s
}

func testOptions(s *ec2test.Server) Options {
	return Options{
		Name: "aws-edge", Region: "us-east-1", Endpoint: s.URL,
		Credentials:            &Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		SelfContained:          true,
		VPCID:                  testVPC,
		SupportedInstanceTypes: []string{"t3.medium", "m5.large", "m5.xlarge"},
		DefaultInstanceType:    "m5.large",
		Tags:                   imsTags,
		Capacity:               Capacity{Budget: Budget{VCPUs: 16, MemoryGiB: 64}, Zones: map[string]Budget{"us-east-1b": {VCPUs: 8, MemoryGiB: 32}}},
		MaxAttempts:            3,
		MaxBackoff:             10 * time.Millisecond,
		Timeout:                20 * time.Second,
	}
}

func newProvider(t *testing.T, opts Options) *Provider {
	t.Helper()
	p, err := New(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// roundTrip is what the inventory stores and placement reads back.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDiscoverInventory(t *testing.T) {
	s := world(t, ec2test.Options{PageSize: 2})
	p := newProvider(t, testOptions(s))
	ctx := context.Background()
	snap, err := p.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap = roundTrip(t, snap)

	// Pools: one per zone holding the VPC's subnets.
	if len(snap.ResourcePools) != 2 {
		t.Fatalf("pools %+v", snap.ResourcePools)
	}
	pools := map[string]ims.ResourcePool{}
	for _, rp := range snap.ResourcePools {
		pools[rp.Extensions["zone"].(string)] = rp
	}
	a, b := pools["us-east-1a"], pools["us-east-1b"]
	if a.Name != "aws-edge-us-east-1a" || a.ResourcePoolID != p.id("pool/us-east-1/us-east-1a") || a.Extensions["provider"] != "aws" ||
		a.Extensions["providerName"] != "aws-edge" || a.Extensions["region"] != "us-east-1" || a.Extensions["vpcId"] != testVPC ||
		a.Extensions["healthy"] != true || a.Extensions["zoneId"] != "use1-az1" || a.Extensions["instanceCount"] != float64(2) {
		t.Errorf("pool a %+v", a)
	}
	wantSubnets := []any{
		map[string]any{"id": subnetA, "cidr": "10.0.1.0/24", "type": "public"},
		map[string]any{"id": subnetA2, "cidr": "10.0.2.0/24", "type": "private"},
	}
	if !reflect.DeepEqual(a.Extensions["subnets"], wantSubnets) {
		t.Errorf("subnets of a: %v", a.Extensions["subnets"])
	}
	// Capacity as placement reads it: b has its own budget, a shares the
	// region's; pending and running instances take their type's share,
	// stopped ones nothing.
	const gi = int64(1) << 30
	for _, c := range []struct {
		rp              ims.ResourcePool
		alloc, req      placement.Resources
		scope           string
		cpuUtil, memUtl float64
	}{
		{a, placement.Resources{CPUMillis: 16000, MemoryBytes: 64 * gi}, placement.Resources{CPUMillis: 6000, MemoryBytes: 12 * gi}, "region", 0.375, 0.188},
		{b, placement.Resources{CPUMillis: 8000, MemoryBytes: 32 * gi}, placement.Resources{CPUMillis: 2000, MemoryBytes: 8 * gi}, "zone", 0.25, 0.25},
	} {
		capacity, _ := c.rp.Extensions["capacity"].(map[string]any)
		alloc, req := inventory.PoolCapacity(capacity)
		if alloc != c.alloc || req != c.req || capacity["budget"] != c.scope {
			t.Errorf("%s capacity %v: allocatable %+v requested %+v", c.rp.Name, capacity, alloc, req)
		}
		if u := c.rp.Extensions["utilization"].(map[string]any); u["cpu"] != c.cpuUtil || u["memory"] != c.memUtl {
			t.Errorf("%s utilization %v", c.rp.Name, u)
		}
	}

	// Resources: the IMS's four instances, in their zones' pools.
	if len(snap.Resources) != 4 {
		t.Fatalf("resources %+v", snap.Resources)
	}
	byID := map[string]ims.Resource{}
	for _, r := range snap.Resources {
		byID[r.Extensions["instanceId"].(string)] = r
	}
	types := map[string]ims.ResourceType{}
	for _, rt := range snap.ResourceTypes {
		types[rt.ResourceTypeID] = rt
	}
	edge := byID["i-0000000000000000a"]
	if edge.ResourcePoolID != a.ResourcePoolID || types[edge.ResourceTypeID].Model != "t3.medium" ||
		edge.GlobalAssetID != "arn:aws:ec2:us-east-1:123456789012:instance/i-0000000000000000a" ||
		edge.ResourceID != p.id("instance/i-0000000000000000a") {
		t.Errorf("edge-1 %+v", edge)
	}
	ext := edge.Extensions
	if ext["instanceType"] != "t3.medium" || ext["state"] != "running" || ext["operationalState"] != "ENABLED" || ext["usageState"] != "ACTIVE" ||
		ext["adminState"] != "UNLOCKED" || ext["launchTime"] != "2026-11-30T08:00:00Z" || ext["name"] != "edge-1" ||
		ext["publicIpAddress"] != "54.0.0.10" || ext["subnetId"] != subnetA || ext["zone"] != "us-east-1a" || ext["healthy"] != true ||
		!reflect.DeepEqual(ext["privateIpAddresses"], []any{"10.0.1.10", "10.0.1.11"}) ||
		!reflect.DeepEqual(ext["tags"], map[string]any{"ManagedBy": "o2ims", "Project": "nephoran", "Name": "edge-1"}) {
		t.Errorf("edge-1 extensions %v", ext)
	}
	if r := byID["i-0000000000000000d"]; r.ResourcePoolID != b.ResourcePoolID || r.Extensions["state"] != "stopped" ||
		r.Extensions["operationalState"] != "DISABLED" || r.Extensions["adminState"] != "LOCKED" || r.Extensions["healthy"] != false {
		t.Errorf("stopped instance %+v", r)
	}

	// Resource types: supported ones and those in use.
	var models []string
	for _, rt := range snap.ResourceTypes {
		models = append(models, rt.Model)
		if rt.ResourceClass != ims.ResourceClassCompute || rt.ResourceTypeID != p.id("instance-type/"+rt.Model) || rt.Vendor != "Amazon Web Services" {
			t.Errorf("resource type %+v", rt)
		}
	}
	slices.Sort(models)
	if !slices.Equal(models, []string{"c5.xlarge", "m5.large", "m5.xlarge", "t3.medium"}) {
		t.Errorf("resource types %v", models)
	}
	for _, rt := range snap.ResourceTypes {
		e := rt.Extensions
		switch rt.Model {
		case "m5.large":
			if e["vcpus"] != float64(2) || e["memoryMiB"] != float64(8192) || e["supported"] != true || e["default"] != true ||
				!reflect.DeepEqual(e["architectures"], []any{"x86_64"}) {
				t.Errorf("m5.large %v", e)
			}
		case "c5.xlarge":
			if e["vcpus"] != float64(4) || e["supported"] != false || rt.Description != "EC2 instance type c5.xlarge in us-east-1: 4 vCPU, 8 GiB memory" {
				t.Errorf("c5.xlarge %+v", rt)
			}
		}
	}

	// The region is a deployment manager.
	if len(snap.DeploymentManagers) != 1 {
		t.Fatalf("deployment managers %+v", snap.DeploymentManagers)
	}
	dm := snap.DeploymentManagers[0]
	if dm.Extensions["provider"] != "aws" || dm.Extensions["region"] != "us-east-1" || dm.Extensions["vpcId"] != testVPC ||
		dm.ServiceURI != s.URL || a.Extensions["deploymentManagerId"] != dm.DeploymentManagerID ||
		dm.Capacity["cpuMillicores"] != float64(24000) || dm.Capacity["instances"] != float64(4) {
		t.Errorf("deployment manager %+v", dm)
	}

	// What was asked: every list paged with MaxResults and NextToken, the
	// instances filtered by VPC, live states and the IMS's tags.
	calls := s.Calls("DescribeInstances")
	if len(calls) != 2 || calls[1].Params.Get("NextToken") == "" {
		t.Fatalf("DescribeInstances calls %v", calls)
	}
	got := map[string][]string{}
	for i := 1; calls[0].Params.Get("Filter."+itoa(i)+".Name") != ""; i++ {
		var vals []string
		for j := 1; calls[0].Params.Get("Filter."+itoa(i)+".Value."+itoa(j)) != ""; j++ {
			vals = append(vals, calls[0].Params.Get("Filter."+itoa(i)+".Value."+itoa(j)))
		}
		got[calls[0].Params.Get("Filter."+itoa(i)+".Name")] = vals
	}
	want := map[string][]string{"vpc-id": {testVPC}, "instance-state-name": listed, "tag:ManagedBy": {"o2ims"}, "tag:Project": {"nephoran"}}
	if !reflect.DeepEqual(got, want) || calls[0].Params.Get("MaxResults") != "1000" {
		t.Errorf("DescribeInstances filters %v, MaxResults %s", got, calls[0].Params.Get("MaxResults"))
	}
	if c := s.Calls("DescribeSubnets"); len(c) != 2 || c[0].Params.Get("Filter.1.Name") != "vpc-id" || c[0].Params.Get("MaxResults") != "1000" {
		t.Errorf("DescribeSubnets calls %v", c)
	}
	if c := s.Calls("DescribeInstanceTypes"); len(c) != 2 || c[0].Params.Get("InstanceType.1") != "c5.xlarge" {
		t.Errorf("DescribeInstanceTypes calls %v", c)
	}

	// The same world gives the same snapshot: identifiers are stable.
	again, err := p.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(roundTrip(t, again), snap) {
		t.Error("a second discovery differs")
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestStates(t *testing.T) {
	for _, c := range []struct {
		state              ec2types.InstanceStateName
		admin, oper, usage string
		consumes           bool
	}{
		{ec2types.InstanceStateNamePending, "UNLOCKED", "DISABLED", "IDLE", true},
		{ec2types.InstanceStateNameRunning, "UNLOCKED", "ENABLED", "ACTIVE", true},
		{ec2types.InstanceStateNameStopping, "SHUTTINGDOWN", "DISABLED", "IDLE", false},
		{ec2types.InstanceStateNameStopped, "LOCKED", "DISABLED", "IDLE", false},
		{ec2types.InstanceStateNameShuttingDown, "SHUTTINGDOWN", "DISABLED", "IDLE", false},
		{ec2types.InstanceStateNameTerminated, "LOCKED", "DISABLED", "IDLE", false},
	} {
		admin, oper, usage := states(c.state)
		if admin != c.admin || oper != c.oper || usage != c.usage || consumes(c.state) != c.consumes {
			t.Errorf("%s: %s %s %s %v", c.state, admin, oper, usage, consumes(c.state))
		}
	}
}

// TestCapacityScopes checks how budgets become allocatable capacity.
func TestCapacityScopes(t *testing.T) {
	const gi = int64(1) << 30
	s := world(t, ec2test.Options{})
	for _, c := range []struct {
		name     string
		capacity Capacity
		// allocatable cpu of zones a and b; -1: no capacity.
		a, b int64
	}{
		{"none", Capacity{}, -1, -1},
		// a takes 6 vCPU, b 2: each sees 16 − what the other takes.
		{"shared", Capacity{Budget: Budget{VCPUs: 16, MemoryGiB: 64}}, 14000, 10000},
		{"zones only", Capacity{Zones: map[string]Budget{"us-east-1a": {VCPUs: 4, MemoryGiB: 8}}}, 4000, -1},
		// The other zone overspent the shared budget: none left.
		{"overspent", Capacity{Budget: Budget{VCPUs: 4, MemoryGiB: 64}}, 2000, 0},
	} {
		opts := testOptions(s)
		opts.Capacity = c.capacity
		snap, err := newProvider(t, opts).Discover(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		snap = roundTrip(t, snap)
		for _, rp := range snap.ResourcePools {
			want := c.a
			if rp.Extensions["zone"] == "us-east-1b" {
				want = c.b
			}
			capacity, ok := rp.Extensions["capacity"].(map[string]any)
			if want < 0 {
				if ok || rp.Extensions["utilization"] != nil {
					t.Errorf("%s: %s has capacity %v", c.name, rp.Name, capacity)
				}
				continue
			}
			alloc, _ := inventory.PoolCapacity(capacity)
			if alloc.CPUMillis != want || (alloc.MemoryBytes%gi) != 0 {
				t.Errorf("%s: %s allocatable %+v, want %d millicores", c.name, rp.Name, alloc, want)
			}
		}
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	s := world(t, ec2test.Options{PageSize: 2})
	s.FailNext("DescribeInstances", ec2test.Throttled())
	p := newProvider(t, testOptions(s))
	snap, err := p.Discover(context.Background())
	if err != nil {
		t.Fatalf("one throttled call must be retried: %v", err)
	}
	if len(snap.Resources) != 4 {
		t.Errorf("resources %d", len(snap.Resources))
	}
	calls := s.Calls("DescribeInstances")
	if len(calls) != 3 || calls[0].Code != "RequestLimitExceeded" || calls[1].Code != "" || calls[1].Params.Get("NextToken") != "" {
		t.Errorf("calls %+v", calls)
	}

	// Throttled on every attempt: the discovery fails and says so.
	for range 3 {
		s.FailNext("DescribeVpcs", ec2test.Throttled())
	}
	_, err = p.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DescribeVpcs") || !strings.Contains(err.Error(), "still throttled after 3 attempts (RequestLimitExceeded: Request limit exceeded.)") {
		t.Errorf("err = %v", err)
	}
}

func TestRefusedCredentials(t *testing.T) {
	s := world(t, ec2test.Options{SessionToken: "FwoGZXIvYXdzEXAMPLETOKEN"})
	for _, c := range []struct {
		name  string
		creds Credentials
		ok    bool
	}{
		{"right", Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: "FwoGZXIvYXdzEXAMPLETOKEN"}, true},
		{"wrong secret key", Credentials{AccessKeyID: testKeyID, SecretAccessKey: "not-the-secret", SessionToken: "FwoGZXIvYXdzEXAMPLETOKEN"}, false},
		{"unknown key id", Credentials{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: testSecret, SessionToken: "FwoGZXIvYXdzEXAMPLETOKEN"}, false},
		{"no session token", Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, false},
	} {
		s.ResetCalls()
		opts := testOptions(s)
		opts.Credentials = &c.creds
		_, err := newProvider(t, opts).Discover(context.Background())
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		want := "unavailable: aws provider aws-edge (region us-east-1, VPC " + testVPC + "): DescribeVpcs at " + s.URL +
			": the credentials were refused (AuthFailure: AWS was not able to validate the provided access credentials)"
		if err == nil || err.Error() != want || ims.ErrorCode(err) != ims.EUNAVAILABLE {
			t.Errorf("%s: err = %v\nwant %s", c.name, err, want)
		}
		if calls := s.Calls(""); len(calls) != 1 {
			t.Errorf("%s: a refused request is not retried: %d calls", c.name, len(calls))
		}
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	s := world(t, ec2test.Options{})
	p := newProvider(t, testOptions(s))
	if _, err := p.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := p.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "DescribeVpcs at "+s.URL+": the endpoint is unreachable") {
		t.Errorf("err = %v", err)
	}
}

// TestWorldMismatches: what the configuration says and EC2 does not
// confirm fails discovery with the reason.
func TestWorldMismatches(t *testing.T) {
	s := world(t, ec2test.Options{})
	for _, c := range []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"missing VPC", func(o *Options) { o.VPCID = "vpc-0123456789abcdef0" }, "the VPC does not exist in the region"},
		{"subnet of another VPC", func(o *Options) { o.Subnets = []Subnet{{ID: subnetC}} }, "subnet " + subnetC + " is not a subnet of the VPC (config.vpc.subnets)"},
		{"wrong zone", func(o *Options) { o.Subnets = []Subnet{{ID: subnetA, Zone: "us-east-1b"}} }, "subnet " + subnetA + " is in us-east-1a, not us-east-1b as configured"},
		{"unknown instance type", func(o *Options) {
			o.SupportedInstanceTypes = []string{"t3.medium", "x9.huge"}
			o.DefaultInstanceType = ""
		},
			"DescribeInstanceTypes at " + s.URL + ": InvalidInstanceType: The following supplied instance types do not exist: [x9.huge]"},
	} {
		opts := testOptions(s)
		c.change(&opts)
		_, err := newProvider(t, opts).Discover(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}

	// Configured subnets restrict the inventory and give their type.
	opts := testOptions(s)
	opts.Subnets = []Subnet{{ID: subnetA, Zone: "us-east-1a", Type: "private"}}
	snap, err := newProvider(t, opts).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	snap = roundTrip(t, snap)
	if len(snap.ResourcePools) != 1 || len(snap.Resources) != 1 ||
		!reflect.DeepEqual(snap.ResourcePools[0].Extensions["subnets"], []any{map[string]any{"id": subnetA, "cidr": "10.0.1.0/24", "type": "private"}}) {
		t.Errorf("restricted to one subnet: %+v", snap)
	}

	// An impaired zone is an unhealthy pool.
	s.SetZoneState("us-east-1b", "impaired")
	snap, err = newProvider(t, testOptions(s)).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range snap.ResourcePools {
		if want := rp.Extensions["zone"] != "us-east-1b"; rp.Extensions["healthy"] != want {
			t.Errorf("%s healthy %v (zone state %v)", rp.Name, rp.Extensions["healthy"], rp.Extensions["zoneState"])
		}
	}
}

func TestCredentialSources(t *testing.T) {
	s := world(t, ec2test.Options{})
	dir := t.TempDir()
	// Nothing of this machine's own AWS configuration takes part.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTXXXXX")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")

	file := filepath.Join(dir, "credentials")
	if err := os.WriteFile(file, []byte("[default]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = x\n\n[edge]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(s)
	opts.Credentials, opts.SelfContained = nil, false
	opts.CredentialsFile, opts.Profile = file, "edge"
	if _, err := newProvider(t, opts).Discover(context.Background()); err != nil {
		t.Errorf("the file's profile, before the environment: %v", err)
	}

	// The default chain: here, the environment.
	opts.CredentialsFile, opts.Profile = "", ""
	_, err := newProvider(t, opts).Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the credentials were refused") {
		t.Errorf("wrong keys in the environment: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
	if _, err := newProvider(t, opts).Discover(context.Background()); err != nil {
		t.Errorf("keys in the environment: %v", err)
	}

	// A profile the file lacks is refused when the provider is built.
	opts.CredentialsFile, opts.Profile = file, "nope"
	if _, err := New(opts, slog.New(slog.DiscardHandler)); err == nil || ims.ErrorCode(err) != ims.EINVALID {
		t.Errorf("missing profile: %v", err)
	}
}

func TestValidate(t *testing.T) {
	base := func() Options {
		return Options{Name: "a", Region: "us-east-1", VPCID: testVPC, Credentials: &Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, SelfContained: true}
	}
	for _, c := range []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.Region = "" }, "config.region: required (an AWS region such as us-east-1)"},
		{func(o *Options) { o.Region = "Mars" }, `config.region: "Mars" is not an AWS region name`},
		{func(o *Options) { o.VPCID = "" }, "config.vpc.vpcId: required"},
		{func(o *Options) { o.VPCID = "vpc-xyz" }, `config.vpc.vpcId: "vpc-xyz" is not a VPC id (vpc- and 8 or 17 hexadecimal digits)`},
		{func(o *Options) { o.Credentials = nil }, "config.credentials: accessKeyId and secretAccessKey are required for a provider registered through the API"},
		{func(o *Options) { o.Credentials.SecretAccessKey = "" }, "config.credentials: accessKeyId and secretAccessKey are both required"},
		{func(o *Options) { o.Credentials.AccessKeyID = "akia" }, "config.credentials.accessKeyId: not an AWS access key id"},
		{func(o *Options) { o.Endpoint = "ftp://x" }, `config.endpoint: "ftp://x" is not an http(s) URL`},
		{func(o *Options) { o.Endpoint = "https://u:p@x" }, "config.endpoint:"},
		{func(o *Options) { o.Subnets = []Subnet{{ID: "subnet-1"}} }, `config.vpc.subnets[0].id: "subnet-1" is not a subnet id`},
		{func(o *Options) { o.Subnets = []Subnet{{ID: subnetA}, {ID: subnetA}} }, "config.vpc.subnets[1].id: " + subnetA + " is listed twice"},
		{func(o *Options) { o.Subnets = []Subnet{{ID: subnetA, Zone: "eu-west-1a"}} }, `config.vpc.subnets[0].zone: "eu-west-1a" is not an availability zone of region us-east-1`},
		{func(o *Options) { o.Subnets = []Subnet{{ID: subnetA, Type: "dmz"}} }, `config.vpc.subnets[0].type: "dmz" is neither public nor private`},
		{func(o *Options) { o.SupportedInstanceTypes = []string{"big"} }, `config.instance_types.supported[0]: "big" is not an instance type name`},
		{func(o *Options) { o.SupportedInstanceTypes, o.DefaultInstanceType = []string{"t3.micro"}, "m5.large" }, "config.instance_types.default: m5.large is not among the supported instance types"},
		{func(o *Options) { o.Tags = map[string]string{"aws:owner": "x"} }, "the aws: prefix is reserved"},
		{func(o *Options) { o.Capacity.VCPUs = 4 }, "config.capacity: vcpus and memoryGiB are both positive"},
		{func(o *Options) { o.Capacity = Capacity{FromQuotas: true, Budget: Budget{VCPUs: 4, MemoryGiB: 16}} }, "config.capacity: with fromQuotas the vCPUs are the quota's"},
		{func(o *Options) { o.Capacity = Capacity{FromQuotas: true, Budget: Budget{MemoryGiB: -1}} }, "config.capacity.memoryGiB: between 1 and"},
		{func(o *Options) { o.Capacity.Zones = map[string]Budget{"eu-west-1a": {1, 1}} }, `config.capacity.zones: "eu-west-1a" is not an availability zone of region us-east-1`},
		{func(o *Options) { o.Capacity.Zones = map[string]Budget{"us-east-1a": {}} }, "config.capacity.zones.us-east-1a: vcpus and memoryGiB are required"},
		{func(o *Options) { o.CredentialsFile = "/x" }, "config.credentials: give credentials or credentialsFile (and profile), not both"},
	} {
		o := base()
		c.change(&o)
		_, err := New(o, slog.New(slog.DiscardHandler))
		if err == nil || ims.ErrorCode(err) != ims.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	o := base()
	o.Subnets = []Subnet{{ID: subnetA, Zone: "us-east-1a", Type: "public"}, {ID: "subnet-0123abcd", Zone: "us-east-1-bos-1a"}}
	o.SupportedInstanceTypes, o.DefaultInstanceType = []string{"m7i-flex.large", "u-6tb1.metal"}, "u-6tb1.metal"
	o.Capacity = Capacity{Budget: Budget{VCPUs: 1, MemoryGiB: 1}, Zones: map[string]Budget{"us-east-1a": {VCPUs: 2, MemoryGiB: 4}}}
	if _, err := New(o, slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

func TestPages(t *testing.T) {
	tokens := []string{"a", "b", ""}
	var seen []string
	var token *string
	err := pages(context.Background(), &token, func(context.Context) (*string, error) {
		seen = append(seen, awssdk.ToString(token))
		next := tokens[len(seen)-1]
		return &next, nil
	})
	if err != nil || !slices.Equal(seen, []string{"", "a", "b"}) {
		t.Errorf("pages asked with %q: %v", seen, err)
	}
	// A token answered twice would loop forever.
	token = nil
	err = pages(context.Background(), &token, func(context.Context) (*string, error) { return awssdk.String("same"), nil })
	if err == nil || !strings.Contains(err.Error(), "the same NextToken twice") {
		t.Errorf("repeated token: %v", err)
	}
}
