package azure

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/azure/azuretest"
)

const (
	testSub    = "11111111-2222-3333-4444-555555555555"
	testTenant = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	testClient = "99999999-8888-7777-6666-555555555555"
	testSecret = "s3cr3t~Value.Of-The_Principal"
)

var imsTags = map[string]string{"ManagedBy": "o2ims"}

// world serves the resource group rg-edge in westeurope: a virtual
// network with a compute and a storage subnet and one the IMS does not
// inventory, four VMs of the IMS (running, stopped, deallocated, and one
// in the storage subnet) and two that are not (untagged; in the other
// subnet), three VM sizes; pages of two.
func world(t *testing.T) *azuretest.World {
	t.Helper()
	w := azuretest.New(testSub, "rg-edge", "westeurope", "vnet-edge", "10.0.0.0/16")
	w.AddSubnet(azuretest.Subnet{Name: "compute", CIDR: "10.0.1.0/24"}, azuretest.Subnet{Name: "storage", CIDR: "10.0.2.0/24"}, azuretest.Subnet{Name: "mgmt", CIDR: "10.0.3.0/24"})
	w.AddSize(azuretest.Size{Name: "Standard_D2s_v5", Cores: 2, MemoryMB: 8192}, azuretest.Size{Name: "Standard_D4s_v5", Cores: 4, MemoryMB: 16384},
		azuretest.Size{Name: "Standard_B2s", Cores: 2, MemoryMB: 4096})
	w.AddNIC(azuretest.NIC{Name: "edge-1-nic", Subnet: "compute", IP: "10.0.1.4"}, azuretest.NIC{Name: "edge-2-nic", Subnet: "compute", IP: "10.0.1.5"},
		azuretest.NIC{Name: "edge-3-nic", Subnet: "compute", IP: "10.0.1.6"}, azuretest.NIC{Name: "store-1-nic", Subnet: "storage", IP: "10.0.2.4"},
		azuretest.NIC{Name: "other-nic", Subnet: "compute", IP: "10.0.1.9"}, azuretest.NIC{Name: "mgmt-1-nic", Subnet: "mgmt", IP: "10.0.3.4"})
	w.AddVM(
		azuretest.VM{Name: "edge-1", Size: "Standard_D2s_v5", Power: "running", Zones: []string{"1"}, Tags: map[string]string{"ManagedBy": "o2ims", "role": "du"}, NICs: []string{"edge-1-nic"}},
		azuretest.VM{Name: "edge-2", Size: "Standard_D4s_v5", Power: "stopped", Tags: imsTags, NICs: []string{"edge-2-nic"}},
		azuretest.VM{Name: "edge-3", Size: "Standard_D4s_v5", Power: "deallocated", Tags: imsTags, NICs: []string{"edge-3-nic"}},
		azuretest.VM{Name: "store-1", Size: "Standard_D2s_v5", Power: "running", Tags: imsTags, NICs: []string{"store-1-nic"}},
		azuretest.VM{Name: "other", Size: "Standard_B2s", Power: "running", NICs: []string{"other-nic"}},
		azuretest.VM{Name: "mgmt-1", Size: "Standard_B2s", Power: "running", Tags: imsTags, NICs: []string{"mgmt-1-nic"}},
	)
	return w
}

func testOptions(w *azuretest.World) Options {
	return Options{
		Name: "azure-edge", SubscriptionID: testSub, TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret,
		ResourceGroup: "rg-edge", Location: "westeurope", VNetName: "vnet-edge",
		Subnets:          []Subnet{{Name: "compute", Purpose: PurposeCompute}, {Name: "storage", Purpose: PurposeStorage}},
		SupportedVMSizes: []string{"Standard_D2s_v5", "Standard_D4s_v5", "Standard_E2s_v5"},
		DefaultVMSize:    "Standard_D2s_v5",
		Tags:             imsTags,
		Capacity:         Budget{VCPUs: 16, MemoryGiB: 64},
		MaxRetries:       3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond, Timeout: 20 * time.Second,
		Connection: Connection{Transport: w.Transport(), Credential: azuretest.Credential()},
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

func TestOptionsValidation(t *testing.T) {
	w := world(t)
	cases := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no subscription", func(o *Options) { o.SubscriptionID = "" }, "config.subscriptionId: required"},
		{"subscription not a GUID", func(o *Options) { o.SubscriptionID = "my-sub" }, `config.subscriptionId: "my-sub" is not a GUID`},
		{"no tenant", func(o *Options) { o.Connection.Credential = nil; o.TenantID = "" }, "config.tenantId: required"},
		{"client not a GUID", func(o *Options) { o.Connection.Credential = nil; o.ClientID = "app" }, `config.clientId: "app" is not a GUID`},
		{"no secret", func(o *Options) { o.Connection.Credential = nil; o.ClientSecret = "" }, "config.clientSecret: required"},
		{"no resource group", func(o *Options) { o.ResourceGroup = "" }, "config.resourceGroup: required"},
		{"resource group with a slash", func(o *Options) { o.ResourceGroup = "rg/x" }, `config.resourceGroup: "rg/x" is not a resource group name`},
		{"resource group ending in a dot", func(o *Options) { o.ResourceGroup = "rg." }, "config.resourceGroup"},
		{"no location", func(o *Options) { o.Location = "" }, "config.location: required"},
		{"location display name", func(o *Options) { o.Location = "West Europe" }, `config.location: "West Europe" is not an Azure location name`},
		{"unknown cloud", func(o *Options) { o.Cloud = "AzureMars" }, `config.cloud: "AzureMars" is none of`},
		{"no vnet", func(o *Options) { o.VNetName = "" }, "config.networking.vnetName: required"},
		{"subnet name", func(o *Options) { o.Subnets = []Subnet{{Name: "a b"}} }, `config.networking.subnets[0].name: "a b" is not a subnet name`},
		{"subnet twice", func(o *Options) { o.Subnets = []Subnet{{Name: "a"}, {Name: "A"}} }, "config.networking.subnets[1].name: A is listed twice"},
		{"purpose", func(o *Options) { o.Subnets = []Subnet{{Name: "a", Purpose: "gpu"}} }, `config.networking.subnets[0].purpose: "gpu" is neither compute nor storage`},
		{"size name", func(o *Options) { o.SupportedVMSizes = []string{"D2 v5"} }, `config.vmSizes.supported[0]: "D2 v5" is not a VM size name`},
		{"default not supported", func(o *Options) { o.DefaultVMSize = "Standard_B1s" }, "config.vmSizes.default: Standard_B1s is not among the supported VM sizes"},
		{"reserved tag", func(o *Options) { o.Tags = map[string]string{"azure-x": "1"} }, "the azure, microsoft and windows prefixes are reserved"},
		{"tag name", func(o *Options) { o.Tags = map[string]string{"a/b": "1"} }, `config.tags.default: "a/b" is not a tag name`},
		{"half a budget", func(o *Options) { o.Capacity = Budget{VCPUs: 4} }, "config.capacity: vcpus and memoryGiB are both positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(w)
			tc.change(&opts)
			_, err := New(opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if ims.ErrorCode(err) != ims.EINVALID || !strings.Contains(ims.ErrorMessage(err), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, leak := range []string{"armcompute", "azcore", "*", "struct"} {
				if strings.Contains(ims.ErrorMessage(err), leak) {
					t.Errorf("message %q shows %q", ims.ErrorMessage(err), leak)
				}
			}
		})
	}
	// The secret is no part of any message.
	opts := testOptions(w)
	opts.Connection.Credential = nil
	opts.TenantID = "bad"
	if _, err := New(opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error %v", err)
	}
	// A complete configuration with a service principal builds without
	// contacting Azure.
	opts = testOptions(w)
	opts.Connection.Credential = nil
	if _, err := New(opts, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Errorf("a valid configuration: %v", err)
	}
}

func TestStates(t *testing.T) {
	cases := []struct {
		provisioning, power string
		admin, oper, usage  string
		allocated           bool
	}{
		{"Succeeded", "running", "UNLOCKED", "ENABLED", "ACTIVE", true},
		{"Succeeded", "starting", "UNLOCKED", "DISABLED", "IDLE", true},
		{"Creating", "", "UNLOCKED", "DISABLED", "IDLE", true},
		{"Succeeded", "stopping", "SHUTTINGDOWN", "DISABLED", "IDLE", true},
		{"Succeeded", "stopped", "LOCKED", "DISABLED", "IDLE", true},
		{"Succeeded", "deallocating", "SHUTTINGDOWN", "DISABLED", "IDLE", false},
		{"Succeeded", "deallocated", "LOCKED", "DISABLED", "IDLE", false},
		{"Deleting", "running", "SHUTTINGDOWN", "DISABLED", "IDLE", true},
		{"Failed", "", "UNLOCKED", "DISABLED", "IDLE", false},
	}
	for _, tc := range cases {
		admin, oper, usage, allocated := states(tc.provisioning, tc.power)
		if admin != tc.admin || oper != tc.oper || usage != tc.usage || allocated != tc.allocated {
			t.Errorf("%s/%s: %s %s %s %v, want %s %s %s %v", tc.provisioning, tc.power, admin, oper, usage, allocated, tc.admin, tc.oper, tc.usage, tc.allocated)
		}
	}
}

func TestDiscover(t *testing.T) {
	w := world(t)
	// The VM list is throttled twice: the SDK's retry policy retries it.
	w.Throttle("VirtualMachinesClient.NewListPager", 2)
	p := newProvider(t, testOptions(w))
	snap, err := p.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 3 pages of 2 VMs, the first attempt of the first refused twice.
	if n := w.Calls("VirtualMachinesClient.NewListPager"); n != 5 {
		t.Errorf("VM list calls %d, want 5 (two throttled, three pages)", n)
	}
	if n := w.Calls("VirtualMachineSizesClient.NewListPager"); n != 2 {
		t.Errorf("VM size list calls %d, want 2 pages", n)
	}

	pools := map[string]string{}
	for _, pl := range snap.ResourcePools {
		subnet := pl.Extensions["subnet"].(map[string]any)
		pools[subnet["name"].(string)] = pl.ResourcePoolID
		if pl.Extensions["provider"] != "azure" || pl.Extensions["location"] != "westeurope" || pl.Extensions["healthy"] != true || pl.Name != "azure-edge-"+subnet["name"].(string) {
			t.Errorf("pool %+v", pl)
		}
		if pl.Extensions["deploymentManagerId"] != p.DeploymentManagerID() {
			t.Errorf("pool %s deployment manager %v", pl.Name, pl.Extensions["deploymentManagerId"])
		}
	}
	if len(pools) != 2 || pools["compute"] == "" || pools["storage"] == "" {
		t.Fatalf("pools %v, want compute and storage (mgmt is not configured)", pools)
	}
	for _, pl := range snap.ResourcePools {
		subnet := pl.Extensions["subnet"].(map[string]any)
		if subnet["name"] == "compute" {
			if !slices.Equal(subnet["cidrs"].([]string), []string{"10.0.1.0/24"}) || subnet["purpose"] != "compute" || !slices.Equal(pl.Extensions["zones"].([]string), []string{"1"}) {
				t.Errorf("compute pool %+v", pl.Extensions)
			}
			// The location's 16 vCPUs less what the other pool takes
			// (store-1, 2); this one takes edge-1 (2) and the stopped
			// edge-2 (4); the deallocated edge-3 takes nothing.
			c := pl.Extensions["capacity"].(map[string]any)
			if alloc := c["allocatable"].(map[string]any); alloc["cpuMillicores"] != int64(14000) || c["requested"].(map[string]any)["cpuMillicores"] != int64(6000) {
				t.Errorf("compute pool capacity %v", c)
			}
		}
	}

	byName := map[string]int{}
	for i, r := range snap.Resources {
		byName[r.Extensions["vmName"].(string)] = i
	}
	if len(snap.Resources) != 4 {
		t.Fatalf("resources %v, want edge-1..3 and store-1", byName)
	}
	checks := []struct {
		vm, pool, size, oper, power string
		ips                         []string
	}{
		{"edge-1", "compute", "Standard_D2s_v5", "ENABLED", "running", []string{"10.0.1.4"}},
		{"edge-2", "compute", "Standard_D4s_v5", "DISABLED", "stopped", []string{"10.0.1.5"}},
		{"edge-3", "compute", "Standard_D4s_v5", "DISABLED", "deallocated", []string{"10.0.1.6"}},
		{"store-1", "storage", "Standard_D2s_v5", "ENABLED", "running", []string{"10.0.2.4"}},
	}
	for _, c := range checks {
		i, ok := byName[c.vm]
		if !ok {
			t.Errorf("%s missing", c.vm)
			continue
		}
		r := snap.Resources[i]
		armID := w.VMID(c.vm)
		if r.ResourcePoolID != pools[c.pool] || r.ResourceID != p.ResourceID(armID) || r.GlobalAssetID != armID || r.Extensions["vmSize"] != c.size ||
			r.Extensions["operationalState"] != c.oper || r.Extensions["powerState"] != c.power || !slices.Equal(r.Extensions["privateIpAddresses"].([]string), c.ips) ||
			r.ResourceTypeID != p.id("vm-size/"+strings.ToLower(c.size)) || r.Extensions["timeCreated"] != "2026-12-01T09:00:00Z" {
			t.Errorf("%s: %+v", c.vm, r)
		}
	}
	if tags := snap.Resources[byName["edge-1"]].Extensions["tags"].(map[string]string); tags["role"] != "du" {
		t.Errorf("edge-1 tags %v", tags)
	}

	types := map[string]map[string]any{}
	for _, rt := range snap.ResourceTypes {
		types[rt.Model] = rt.Extensions
		if rt.ResourceClass != ims.ResourceClassCompute || rt.Vendor != "Microsoft Azure" {
			t.Errorf("type %+v", rt)
		}
	}
	if len(types) != 3 || types["Standard_D4s_v5"]["vcpus"] != int64(4) || types["Standard_D4s_v5"]["memoryMiB"] != int64(16384) ||
		types["Standard_D2s_v5"]["default"] != true || types["Standard_E2s_v5"]["available"] != false {
		t.Errorf("resource types %v", types)
	}
	if len(snap.DeploymentManagers) != 1 {
		t.Fatalf("deployment managers %+v", snap.DeploymentManagers)
	}
	dm := snap.DeploymentManagers[0]
	if dm.DeploymentManagerID != p.DeploymentManagerID() || dm.Extensions["location"] != "westeurope" || dm.ServiceURI != "https://management.azure.com" || dm.Capacity["vms"] != 4 {
		t.Errorf("deployment manager %+v", dm)
	}

	// Stable identifiers across discoveries.
	again, err := p.Discover(context.Background())
	if err != nil || again.Resources[0].ResourceID != snap.Resources[0].ResourceID {
		t.Errorf("second discovery: %v", err)
	}
}

func TestDiscoverFailures(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*azuretest.World, *Options)
		want  string
	}{
		{"refused credentials", func(w *azuretest.World, _ *Options) { w.Refuse(true) }, "the credentials were refused (InvalidAuthenticationToken: The access token is invalid.)"},
		{"no token", func(_ *azuretest.World, o *Options) {
			c := azuretest.Credential()
			c.SetError(errors.New("AADSTS7000215: Invalid client secret provided"))
			o.Connection.Credential = c
		}, "AADSTS7000215"},
		{"unreachable", func(w *azuretest.World, _ *Options) { w.Unreachable(true) }, "the endpoint is unreachable"},
		{"lasting throttling", func(w *azuretest.World, _ *Options) { w.Throttle("SubnetsClient.NewListPager", 10) }, "still throttled after 3 retries (TooManyRequests"},
		{"no such vnet", func(_ *azuretest.World, o *Options) { o.VNetName = "vnet-gone" }, "the virtual network vnet-gone does not exist in the resource group"},
		{"no such subnet", func(_ *azuretest.World, o *Options) { o.Subnets = append(o.Subnets, Subnet{Name: "gpu"}) }, "subnet gpu is not a subnet of virtual network vnet-edge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := world(t)
			opts := testOptions(w)
			tc.setup(w, &opts)
			_, err := newProvider(t, opts).Discover(context.Background())
			if ims.ErrorCode(err) != ims.EUNAVAILABLE || !strings.Contains(ims.ErrorMessage(err), tc.want) || !strings.Contains(ims.ErrorMessage(err), "azure provider azure-edge") {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("the secret is in %v", err)
			}
		})
	}
}
