package o2_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/provider/aws/ec2test"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEndToEndAWSProvider registers an AWS provider through the SDK with
// the real server, whose EC2 client (the real aws-sdk-go-v2) reads a test
// EC2 endpoint: the zones of the VPC's subnets appear as pools with their
// capacity, the IMS's instances as resources, their types as resource
// types and the region as a deployment manager; once the endpoint stops
// answering the provider is unhealthy and O2IMSProviderDown is raised.
func TestEndToEndAWSProvider(t *testing.T) {
	ec2 := awsWorld(t)
	ims := map[string]string{"ManagedBy": "o2ims"}

	name := clusterTest(t, "aws") // a secrets key for the server, to store the access key
	endpoint := "http://" + startServer(t, "--local-provider=false", "--refresh-interval", "1s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cfg := o2.ProviderConfig{
		Region:        "us-east-1",
		Credentials:   &o2.AWSCredentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret},
		VPC:           &o2.AWSVPC{VPCID: awsVPC, Subnets: []o2.AWSSubnet{{ID: "subnet-0aaaaaaaaaaaaaaa1", Zone: "us-east-1a", Type: "public"}, {ID: "subnet-0bbbbbbbbbbbbbbb1", Zone: "us-east-1b", Type: "private"}}},
		InstanceTypes: &o2.AWSInstanceTypes{Supported: []string{"t3.medium", "m5.large", "m5.xlarge"}, Default: "m5.large"},
		Tags:          &o2.AWSTags{Default: ims},
		Capacity:      &o2.AWSCapacity{VCPUs: 4, MemoryGiB: 16, Zones: map[string]o2.AWSBudget{"us-east-1a": {VCPUs: 16, MemoryGiB: 64}}},
		Endpoint:      ec2.URL,
	}
	bad := cfg
	bad.VPC = &o2.AWSVPC{VPCID: "vpc-12"}
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: name, Type: o2.ProviderTypeAWS, Config: bad}); !o2.IsBadRequest(err) || !strings.Contains(err.Error(), "config.vpc.vpcId") {
		t.Errorf("a malformed VPC id: %v", err)
	}
	prov, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: name, Type: o2.ProviderTypeAWS, Config: cfg})
	if err != nil {
		t.Fatalf("register provider: %v", err)
	}
	if prov.Type != o2.ProviderTypeAWS || prov.Origin != o2.ProviderFromAPI || prov.Endpoint != ec2.URL {
		t.Errorf("provider %+v", prov)
	}
	// The access key is never echoed.
	resp, err := http.Get(endpoint + "/o2ims/v1/providers/" + prov.ProviderID + "?all_fields")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), awsSecret) || strings.Contains(string(body), awsKeyID) {
		t.Errorf("GET provider: %d %s", resp.StatusCode, body)
	}

	ours := o2.Eq("extensions/providerName", name)
	var pools []o2.ResourcePool
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		page, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ours, AllFields: true})
		if err != nil {
			t.Fatal(err)
		}
		if pools = page.Items; len(pools) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(pools) != 2 {
		t.Fatalf("pools %+v", pools)
	}
	poolOf := map[string]string{}
	for _, p := range pools {
		zone, _ := p.Extensions["zone"].(string)
		poolOf[zone] = p.ResourcePoolID
		if p.Extensions["provider"] != "aws" || p.Extensions["region"] != "us-east-1" || p.Extensions["vpcId"] != awsVPC || p.Extensions["healthy"] != true || p.Name != name+"-"+zone {
			t.Errorf("pool %+v", p)
		}
	}
	// Zone a: its own 16 vCPU budget, 4 taken (t3.medium and m5.large
	// running); zone b: the shared 4 vCPU, nothing taken (its instance is
	// stopped, the other is not the IMS's). Pools with 8 free vCPUs: only
	// zone a's.
	for _, p := range pools {
		capacity, _ := p.Extensions["capacity"].(map[string]any)
		if want := map[string]string{"us-east-1a": "zone", "us-east-1b": "region"}[p.Extensions["zone"].(string)]; capacity["budget"] != want {
			t.Errorf("pool %s capacity %v, want budget %s", p.Name, capacity, want)
		}
	}
	roomy, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ours, MinCapacity: o2.ResourceList{o2.ResourceCPU: "8", o2.ResourceMemory: "16Gi"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(roomy.Items) != 1 || roomy.Items[0].ResourcePoolID != poolOf["us-east-1a"] {
		t.Errorf("pools with 8 free vCPUs: %+v", roomy.Items)
	}

	resources, err := c.Resources().List(ctx, o2.ListOptions{Filter: ours, AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range resources.Items {
		id, _ := r.Extensions["instanceId"].(string)
		states[id], _ = r.Extensions["operationalState"].(string)
		if zone, _ := r.Extensions["zone"].(string); r.ResourcePoolID != poolOf[zone] {
			t.Errorf("resource %s in pool %s, not its zone's", id, r.ResourcePoolID)
		}
	}
	if len(states) != 3 || states["i-0000000000000000a"] != "ENABLED" || states["i-0000000000000000c"] != "DISABLED" {
		t.Errorf("resources: %v", states)
	}
	types, err := c.ResourceTypes().List(ctx, o2.ListOptions{Filter: ours, AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, rt := range types.Items {
		models = append(models, rt.Model)
		if rt.Model == "m5.large" && (rt.Extensions["vcpus"] != float64(2) || rt.Extensions["memoryMiB"] != float64(8192) || rt.ResourceClass != "COMPUTE") {
			t.Errorf("m5.large %+v", rt)
		}
	}
	slices.Sort(models)
	if !slices.Equal(models, []string{"m5.large", "m5.xlarge", "t3.medium"}) {
		t.Errorf("resource types %v", models)
	}
	dms, err := c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", name), AllFields: true})
	if err != nil || len(dms.Items) != 1 || dms.Items[0].Extensions["provider"] != "aws" || dms.Items[0].Extensions["region"] != "us-east-1" {
		t.Fatalf("deployment managers %+v, %v", dms, err)
	}
	if st := providerHealth(ctx, t, c, prov.ProviderID); !st.Healthy {
		t.Errorf("provider not healthy once its inventory is there: %+v", st)
	}

	// The endpoint stops: the provider turns unhealthy, saying why, and
	// O2IMSProviderDown is raised; the inventory stays as last seen.
	ec2.Close()
	var st o2.ProviderStatus
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if st = providerHealth(ctx, t, c, prov.ProviderID); !st.Healthy || time.Now().After(deadline) {
			break
		}
	}
	if st.Healthy || !strings.Contains(st.Error, "the endpoint is unreachable") || !strings.Contains(st.Error, ec2.URL) {
		t.Fatalf("after the endpoint stopped: %+v", st)
	}
	alarms, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSProviderDown"), o2.Eq("extensions/provider", name)), AllFields: true})
	if err != nil || len(alarms.Items) != 1 {
		t.Errorf("O2IMSProviderDown: %+v, %v", alarms, err)
	}
	if page, err := c.Resources().List(ctx, o2.ListOptions{Filter: ours}); err != nil || len(page.Items) != 3 {
		t.Errorf("inventory after the outage: %v", err)
	}
}

// providerHealth returns the discovery status of provider id.
func providerHealth(ctx context.Context, t *testing.T, c *o2.Client, id string) o2.ProviderStatus {
	t.Helper()
	health, err := c.Providers().Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range health {
		if h.ProviderID == id {
			return h
		}
	}
	t.Fatalf("provider %s not in %+v", id, health)
	return o2.ProviderStatus{}
}

// The test EC2 endpoint's credentials and VPC.
const (
	awsKeyID  = "AKIAIOSFODNN7EXAMPLE"
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsVPC    = "vpc-0a1b2c3d4e5f67890"
)

// awsWorld starts a test EC2 endpoint serving a VPC with a subnet in
// us-east-1a and one in us-east-1b, and four instances of which three
// carry the IMS's tag ManagedBy=o2ims; it answers in pages of two.
func awsWorld(t *testing.T) *ec2test.Server {
	t.Helper()
	ec2 := ec2test.New(ec2test.Options{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret, PageSize: 2})
	t.Cleanup(ec2.Close)
	ec2.AddZone(ec2test.Zone{Name: "us-east-1a", ID: "use1-az1"}, ec2test.Zone{Name: "us-east-1b", ID: "use1-az2"})
	ec2.AddVPC(ec2test.VPC{ID: awsVPC, CIDR: "10.0.0.0/16"})
	ec2.AddSubnet(
		ec2test.Subnet{ID: "subnet-0aaaaaaaaaaaaaaa1", VPCID: awsVPC, Zone: "us-east-1a", CIDR: "10.0.1.0/24", MapPublicIPOnLaunch: true},
		ec2test.Subnet{ID: "subnet-0bbbbbbbbbbbbbbb1", VPCID: awsVPC, Zone: "us-east-1b", CIDR: "10.0.2.0/24"},
	)
	ims := map[string]string{"ManagedBy": "o2ims"}
	launched := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	ec2.AddInstance(
		ec2test.Instance{ID: "i-0000000000000000a", Type: "t3.medium", SubnetID: "subnet-0aaaaaaaaaaaaaaa1", State: "running", PrivateIPs: []string{"10.0.1.10"}, LaunchTime: launched, Tags: ims},
		ec2test.Instance{ID: "i-0000000000000000b", Type: "m5.large", SubnetID: "subnet-0aaaaaaaaaaaaaaa1", State: "running", PrivateIPs: []string{"10.0.1.11"}, LaunchTime: launched, Tags: ims},
		ec2test.Instance{ID: "i-0000000000000000c", Type: "m5.large", SubnetID: "subnet-0bbbbbbbbbbbbbbb1", State: "stopped", PrivateIPs: []string{"10.0.2.10"}, LaunchTime: launched, Tags: ims},
		ec2test.Instance{ID: "i-0000000000000000d", Type: "c5.xlarge", SubnetID: "subnet-0bbbbbbbbbbbbbbb1", State: "running", PrivateIPs: []string{"10.0.2.11"}, LaunchTime: launched},
	)
	return ec2
}

// TestEndToEndAWSProviderFromConfig: an aws provider of the
// configuration file, whose access key is in a shared credentials file,
// needs no secrets key.
func TestEndToEndAWSProviderFromConfig(t *testing.T) {
	ec2 := awsWorld(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "aws-credentials")
	if err := os.WriteFile(creds, []byte("[edge]\naws_access_key_id = "+awsKeyID+"\naws_secret_access_key = "+awsSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "o2ims.yaml")
	if err := os.WriteFile(cfg, []byte(`providers:
  - name: aws-from-config
    type: aws
    region: us-east-1
    endpoint: `+ec2.URL+`
    credentialsFile: `+creds+`
    profile: edge
    vpc: {vpcId: `+awsVPC+`}
    instance_types: {supported: [m5.large], default: m5.large}
    tags: {default: {ManagedBy: o2ims}}
    capacity: {vcpus: 8, memoryGiB: 32}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("O2IMS_SECRETS_KEY", "")
	endpoint := "http://" + startServer(t, "--config", cfg, "--local-provider=false", "--refresh-interval", "1s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page, err := c.Providers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "aws-from-config")})
	if err != nil || len(page.Items) != 1 || page.Items[0].Origin != o2.ProviderFromConfig || page.Items[0].Type != o2.ProviderTypeAWS || page.Items[0].Endpoint != ec2.URL {
		t.Fatalf("configured provider: %+v, %v", page, err)
	}
	// The zones share the 8 vCPUs: 4 are taken in us-east-1a.
	pool := firstOf(ctx, t, "aws pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "aws-from-config-us-east-1b"), AllFields: true})
	})
	capacity, _ := pool.Extensions["capacity"].(map[string]any)
	if alloc, _ := capacity["allocatable"].(map[string]any); alloc["cpuMillicores"] != float64(4000) || capacity["budget"] != "region" {
		t.Errorf("pool %s capacity %v", pool.Name, capacity)
	}
	if st := providerHealth(ctx, t, c, page.Items[0].ProviderID); !st.Healthy {
		t.Errorf("health %+v", st)
	}
}

// TestEndToEndAWSProvisioning provisions the aws-compute-stack template
// through the Provisioning API of the real server against the test EC2
// and CloudFormation endpoint: the stack's instance becomes a resource of
// its zone's pool, the bootstrap token is never shown, a stack the cloud
// rolls back is FAILED with the cloud's message, and a deleted request
// terminates its instance and leaves the inventory.
func TestEndToEndAWSProvisioning(t *testing.T) {
	ec2 := awsWorld(t)
	ec2.SetQuota("ec2", "L-1216C47A", 32) // running on-demand standard instances, vCPUs
	name := clusterTest(t, "awsprov")
	endpoint := "http://" + startServer(t, "--local-provider=false", "--refresh-interval", "1s", "--provisioning-cloud-poll-interval", "200ms")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: name, Type: o2.ProviderTypeAWS, Config: o2.ProviderConfig{
		Region:        "us-east-1",
		Credentials:   &o2.AWSCredentials{AccessKeyID: awsKeyID, SecretAccessKey: awsSecret},
		VPC:           &o2.AWSVPC{VPCID: awsVPC, Subnets: []o2.AWSSubnet{{ID: "subnet-0aaaaaaaaaaaaaaa1", Zone: "us-east-1a", Type: "public"}, {ID: "subnet-0bbbbbbbbbbbbbbb1", Zone: "us-east-1b", Type: "private"}}},
		InstanceTypes: &o2.AWSInstanceTypes{Supported: []string{"t3.medium", "m5.large"}, Default: "m5.large"},
		Tags:          &o2.AWSTags{Default: map[string]string{"ManagedBy": "o2ims"}},
		Capacity:      &o2.AWSCapacity{FromQuotas: true, MemoryGiB: 64},
		Endpoint:      ec2.URL,
	}}); err != nil {
		t.Fatalf("register provider: %v", err)
	}
	dm := firstOf(ctx, t, "deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", name)})
	})
	zoneB := firstOf(ctx, t, "pool of us-east-1b", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", name+"-us-east-1b"), AllFields: true})
	})
	// The pools' capacity is the account's vCPU quota (capacity.fromQuotas).
	if capacity, _ := zoneB.Extensions["capacity"].(map[string]any); capacity["budget"] != "quota" {
		t.Errorf("pool %s capacity %v, want the quota's", zoneB.Name, capacity)
	}

	const token = "abcdef.0123456789abcdef"
	data := o2.ProvisioningRequestData{
		ProvisioningRequestID: "7a1b2c3d-4e5f-4a6b-8c7d-" + uniqHex(name),
		Name:                  "edge compute", TemplateName: "aws-compute-stack", TemplateVersion: "1.0.0",
		TemplateParameters: map[string]any{
			"deploymentManagerId": dm.DeploymentManagerID, "InstanceType": "t3.medium", "SubnetId": "subnet-0bbbbbbbbbbbbbbb1",
			"ImageId": "ami-0123456789abcdef0", "O2imsServer": "https://10.0.0.5:8443", "AgentBootstrapToken": token,
		},
	}
	prs := c.ProvisioningRequests()
	unsupported := data
	unsupported.ProvisioningRequestID = "7a1b2c3d-4e5f-4a6b-8c7d-000000000001"
	unsupported.TemplateParameters = map[string]any{"deploymentManagerId": dm.DeploymentManagerID, "InstanceType": "c5.large"}
	if _, err := prs.Create(ctx, unsupported); !o2.IsBadRequest(err) || !strings.Contains(err.Error(), "templateParameters.InstanceType") {
		t.Errorf("an instance type outside the schema: %v", err)
	}
	if _, err := prs.Create(ctx, data); err != nil {
		t.Fatalf("create: %v", err)
	}
	r, err := prs.Wait(ctx, data.ProvisioningRequestID, o2.ProvisioningFulfilled)
	if err != nil {
		t.Fatalf("wait: %+v %v", r, err)
	}
	if r.ProvisionedResourceSet.NodeClusterID != dm.DeploymentManagerID || len(r.ProvisionedResourceSet.InfrastructureResourceIDs) != 1 {
		t.Fatalf("provisioned %+v", r.ProvisionedResourceSet)
	}
	resourceID := r.ProvisionedResourceSet.InfrastructureResourceIDs[0]
	res := firstOf(ctx, t, "the stack's instance in the inventory", func() (*o2.Page[o2.Resource], error) {
		return c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("resourceId", resourceID), AllFields: true})
	})
	instanceID, _ := res.Extensions["instanceId"].(string)
	if res.ResourcePoolID != zoneB.ResourcePoolID || res.Extensions["instanceType"] != "t3.medium" {
		t.Errorf("resource %+v, want a t3.medium in pool %s", res, zoneB.ResourcePoolID)
	}
	if inst, ok := ec2.Instance(instanceID); !ok || inst.State != "running" || !strings.Contains(decodeBase64(inst.UserData), "--bootstrap-token") {
		t.Errorf("instance %s: %+v", instanceID, inst)
	}
	// The bootstrap token reached the stack but is never shown.
	resp, err := http.Get(endpoint + o2.ProvisioningAPIPrefix + "/provisioningRequests/" + data.ProvisioningRequestID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), token) {
		t.Errorf("GET request: %d %s", resp.StatusCode, body)
	}

	// A stack the cloud rolls back: FAILED with the cloud's message.
	ec2.RefuseInstanceType("m5.large", ec2test.APIError{Code: "InsufficientInstanceCapacity"})
	failing := o2.ProvisioningRequestData{
		ProvisioningRequestID: "7a1b2c3d-4e5f-4a6b-8c7d-000000000002", Name: "no capacity",
		TemplateName: "aws-compute-stack", TemplateVersion: "1.0.0",
		TemplateParameters: map[string]any{"deploymentManagerId": dm.DeploymentManagerID, "InstanceType": "m5.large", "ImageId": "ami-0123456789abcdef0"},
	}
	if _, err := prs.Create(ctx, failing); err != nil {
		t.Fatalf("create: %v", err)
	}
	var pe *o2.ProvisioningError
	if _, err := prs.Wait(ctx, failing.ProvisioningRequestID, o2.ProvisioningFulfilled); !errors.As(err, &pe) ||
		pe.Request.Status.ProvisioningPhase != o2.ProvisioningFailed || !strings.Contains(pe.Request.Status.Message, "sufficient m5.large capacity") {
		t.Errorf("a rolled-back stack: %v", err)
	}

	// Deleted: the stack goes, its instance is terminated and leaves the
	// inventory.
	for _, id := range []string{data.ProvisioningRequestID, failing.ProvisioningRequestID} {
		if err := prs.Delete(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
		if err := prs.WaitDeleted(ctx, id); err != nil {
			t.Fatalf("wait deleted %s: %v", id, err)
		}
	}
	if inst, ok := ec2.Instance(instanceID); ok && inst.State != "terminated" {
		t.Errorf("instance after the deletion: %+v", inst)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		page, err := c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("resourceId", resourceID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resource %s still in the inventory", resourceID)
		}
	}
	// Its removal was asked for: no O2IMSResourceDisappeared.
	gone, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSResourceDisappeared"), o2.Eq("resourceID", resourceID))})
	if err != nil || len(gone.Items) != 0 {
		t.Errorf("alarms of the deleted instance: %+v, %v", gone, err)
	}
}

// decodeBase64 is s decoded, or s when it is not base64.
func decodeBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return s
	}
	return string(b)
}

// uniqHex is twelve hex digits derived from a test's unique name, for
// request ids that differ between runs sharing a database.
func uniqHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
