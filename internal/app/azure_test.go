package app

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/provider"
	azureprovider "github.com/nephoran/o2ims/internal/provider/azure"
	"github.com/nephoran/o2ims/internal/provider/azure/azuretest"
	"github.com/nephoran/o2ims/internal/sqlstore"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

const azureSecret = "s3cr3t~Client.Secret-Of_The-Principal"

// TestAzureProviderInProcess runs the whole server in-process with its
// Azure clients on the Azure SDK's fake servers (the fakes are
// transports, not network servers, so the o2ims binary cannot reach
// them): an azure provider registered through the HTTP API publishes its
// subnets as pools, its VMs as resources and its VM sizes as resource
// types, is healthy, and its client secret is never echoed; refused
// credentials or an unreachable endpoint make a provider unhealthy, and
// a registration made meanwhile still succeeds.
func TestAzureProviderInProcess(t *testing.T) {
	w := azuretest.New("11111111-2222-3333-4444-555555555555", "rg-edge", "westeurope", "vnet-edge", "10.0.0.0/16")
	w.AddSubnet(azuretest.Subnet{Name: "compute", CIDR: "10.0.1.0/24"}, azuretest.Subnet{Name: "storage", CIDR: "10.0.2.0/24"})
	w.AddSize(azuretest.Size{Name: "Standard_D2s_v5", Cores: 2, MemoryMB: 8192}, azuretest.Size{Name: "Standard_D4s_v5", Cores: 4, MemoryMB: 16384})
	w.AddNIC(azuretest.NIC{Name: "edge-1-nic", Subnet: "compute", IP: "10.0.1.4"}, azuretest.NIC{Name: "edge-2-nic", Subnet: "compute", IP: "10.0.1.5"},
		azuretest.NIC{Name: "store-1-nic", Subnet: "storage", IP: "10.0.2.4"}, azuretest.NIC{Name: "other-nic", Subnet: "compute", IP: "10.0.1.9"})
	ims := map[string]string{"ManagedBy": "o2ims"}
	w.AddVM(
		azuretest.VM{Name: "edge-1", Size: "Standard_D2s_v5", Power: "running", Tags: ims, NICs: []string{"edge-1-nic"}},
		azuretest.VM{Name: "edge-2", Size: "Standard_D4s_v5", Power: "deallocated", Tags: ims, NICs: []string{"edge-2-nic"}},
		azuretest.VM{Name: "store-1", Size: "Standard_D2s_v5", Power: "running", Tags: ims, NICs: []string{"store-1-nic"}},
		azuretest.VM{Name: "other", Size: "Standard_D2s_v5", Power: "running", NICs: []string{"other-nic"}},
	)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a, c := startAzureApp(ctx, t, w, Options{SecretsKey: key})
	endpoint := "http://" + a.Addr()

	cfg := o2.ProviderConfig{
		SubscriptionID: w.Subscription, TenantID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", ClientID: "99999999-8888-7777-6666-555555555555", ClientSecret: azureSecret,
		ResourceGroup: "rg-edge", Location: "westeurope",
		Networking: &o2.AzureNetworking{VNetName: "vnet-edge", Subnets: []o2.AzureSubnet{{Name: "compute", Purpose: "compute"}, {Name: "storage", Purpose: "storage"}}},
		VMSizes:    &o2.AzureVMSizes{Supported: []string{"Standard_D2s_v5", "Standard_D4s_v5"}, Default: "Standard_D2s_v5"},
		Tags:       &o2.AWSTags{Default: ims},
		Capacity:   &o2.AWSCapacity{VCPUs: 16, MemoryGiB: 64},
	}
	bad := cfg
	bad.Location = "West Europe"
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: "azure-bad", Type: o2.ProviderTypeAzure, Config: bad}); !o2.IsBadRequest(err) || !strings.Contains(err.Error(), "config.location") {
		t.Errorf("a location display name: %v", err)
	}
	prov, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: "azure-edge", Type: o2.ProviderTypeAzure, Config: cfg})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if prov.Type != o2.ProviderTypeAzure || prov.Origin != o2.ProviderFromAPI || prov.Endpoint != "https://management.azure.com" {
		t.Errorf("provider %+v", prov)
	}
	for _, path := range []string{"/o2ims/v1/providers/" + prov.ProviderID + "?all_fields", "/o2ims/v1/providers?all_fields", "/o2ims/v1/providers/health"} {
		resp, err := http.Get(endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), azureSecret) || strings.Contains(string(body), "clientSecret") {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}

	ours := o2.Eq("extensions/providerName", "azure-edge")
	var pools []o2.ResourcePool
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
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
		poolOf[p.Extensions["purpose"].(string)] = p.ResourcePoolID
		if p.Extensions["provider"] != "azure" || p.Extensions["location"] != "westeurope" || p.Extensions["healthy"] != true {
			t.Errorf("pool %+v", p)
		}
	}
	// 16 vCPUs for the location: 2 taken in each pool (edge-1, store-1;
	// edge-2 is deallocated); pools with 13 free vCPUs: none.
	roomy, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ours, MinCapacity: o2.ResourceList{o2.ResourceCPU: "12", o2.ResourceMemory: "8Gi"}})
	if err != nil || len(roomy.Items) != 2 {
		t.Errorf("pools with 12 free vCPUs: %+v, %v", roomy, err)
	}
	roomy, err = c.ResourcePools().List(ctx, o2.ListOptions{Filter: ours, MinCapacity: o2.ResourceList{o2.ResourceCPU: "13"}})
	if err != nil || len(roomy.Items) != 0 {
		t.Errorf("pools with 13 free vCPUs: %+v, %v", roomy, err)
	}

	resources, err := c.Resources().List(ctx, o2.ListOptions{Filter: ours, AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range resources.Items {
		name, _ := r.Extensions["vmName"].(string)
		states[name], _ = r.Extensions["operationalState"].(string)
		want := poolOf["compute"]
		if name == "store-1" {
			want = poolOf["storage"]
		}
		if r.ResourcePoolID != want {
			t.Errorf("resource %s in pool %s, want %s", name, r.ResourcePoolID, want)
		}
	}
	if len(states) != 3 || states["edge-1"] != "ENABLED" || states["edge-2"] != "DISABLED" || states["store-1"] != "ENABLED" {
		t.Errorf("resources %v", states)
	}
	types, err := c.ResourceTypes().List(ctx, o2.ListOptions{Filter: ours, AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, rt := range types.Items {
		models = append(models, rt.Model)
		if rt.Model == "Standard_D4s_v5" && (rt.Extensions["vcpus"] != float64(4) || rt.Extensions["memoryMiB"] != float64(16384)) {
			t.Errorf("Standard_D4s_v5 %+v", rt)
		}
	}
	slices.Sort(models)
	if !slices.Equal(models, []string{"Standard_D2s_v5", "Standard_D4s_v5"}) {
		t.Errorf("resource types %v", models)
	}
	dms, err := c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "azure-edge"), AllFields: true})
	if err != nil || len(dms.Items) != 1 || dms.Items[0].Extensions["location"] != "westeurope" {
		t.Fatalf("deployment managers %+v, %v", dms, err)
	}
	// The realizer's lookup finds the provider by its deployment manager.
	if p, err := providerOf[*azureprovider.Provider](a.syncer, "Azure")(ctx, dms.Items[0].DeploymentManagerID); err != nil || p.Name() != "azure-edge" {
		t.Errorf("lookup of %s: %v, %v", dms.Items[0].DeploymentManagerID, p, err)
	}
	if st := azureHealth(ctx, t, c, prov.ProviderID); !st.Healthy {
		t.Errorf("not healthy: %+v", st)
	}

	// Azure stops answering: a registration still succeeds, and both
	// providers are unhealthy, saying why.
	w.Unreachable(true)
	other := cfg
	other.ResourceGroup = "rg-edge"
	late, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: "azure-late", Type: o2.ProviderTypeAzure, Config: other})
	if err != nil {
		t.Fatalf("a registration while Azure is unreachable: %v", err)
	}
	for _, id := range []string{prov.ProviderID, late.ProviderID} {
		st := waitAzureUnhealthy(ctx, t, c, id)
		if !strings.Contains(st.Error, "the endpoint is unreachable") {
			t.Errorf("unreachable: %+v", st)
		}
	}
	// Refused credentials: unhealthy with Azure's own code and message.
	w.Unreachable(false)
	w.Refuse(true)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st := azureHealth(ctx, t, c, prov.ProviderID)
		if strings.Contains(st.Error, "the credentials were refused (InvalidAuthenticationToken") && !st.Healthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refused credentials: %+v", st)
		}
	}
	alarms, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSProviderDown"), o2.Eq("extensions/provider", "azure-edge"))})
	if err != nil || len(alarms.Items) != 1 {
		t.Errorf("O2IMSProviderDown: %+v, %v", alarms, err)
	}
	if page, err := c.Resources().List(ctx, o2.ListOptions{Filter: ours}); err != nil || len(page.Items) != 3 {
		t.Errorf("inventory after the outage: %v", err)
	}
}

// startAzureApp runs the whole server in-process with opts (on a SQLite
// store of its own, refreshing every 500ms), its Azure clients on w's
// fakes, until the test ends; it returns the app and an SDK client of its
// API.
func startAzureApp(ctx context.Context, t *testing.T, w *azuretest.World, opts Options) (*App, *o2.Client) {
	t.Helper()
	opts.Listen = "127.0.0.1:0"
	opts.Database = sqlstore.Options{DataDir: t.TempDir()}
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.RefreshInterval = 500 * time.Millisecond
	opts.Azure = azureConnection(w)
	a, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://" + a.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

// TestAzureProvisioningInProcess provisions the azure-compute-vm template
// through the Provisioning API of the in-process server on the Azure
// SDK's fakes: the ARM deployment's VM becomes a resource of its subnet's
// pool, a failed deployment is FAILED with Azure's message, and a deleted
// request removes the VM and its network interface.
func TestAzureProvisioningInProcess(t *testing.T) {
	w := azuretest.New("11111111-2222-3333-4444-555555555555", "rg-prov", "westeurope", "vnet-prov", "10.2.0.0/16")
	w.AddSubnet(azuretest.Subnet{Name: "compute", CIDR: "10.2.1.0/24"})
	w.AddSize(azuretest.Size{Name: "Standard_D2s_v5", Cores: 2, MemoryMB: 8192})
	secret := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secret, []byte(azureSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, c := startAzureApp(ctx, t, w, Options{
		Providers: []ProviderConfig{{
			Name: "azure-prov", Type: "azure", SubscriptionID: w.Subscription, TenantID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
			ClientID: "99999999-8888-7777-6666-555555555555", ClientSecretFile: secret, ResourceGroup: "rg-prov", Location: "westeurope",
			Networking: &provider.AzureNetworking{VNetName: "vnet-prov", Subnets: []provider.AzureSubnet{{Name: "compute", Purpose: "compute"}}},
			VMSizes:    &provider.AzureVMSizes{Supported: []string{"Standard_D2s_v5"}, Default: "Standard_D2s_v5"},
			Tags:       &provider.AWSTags{Default: map[string]string{"ManagedBy": "o2ims"}},
		}},
		Provisioning: ProvisioningOptions{CloudPollInterval: 100 * time.Millisecond},
	})
	var dm o2.DeploymentManager
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		page, err := c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "azure-prov")})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 1 {
			dm = page.Items[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no deployment manager of the azure provider")
		}
	}
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHo2aW1zLXRlc3Qta2V5LWZvci1henVyZS12bQ test"
	prs := c.ProvisioningRequests()
	request := func(id, vm, size string) o2.ProvisioningRequestData {
		return o2.ProvisioningRequestData{ProvisioningRequestID: id, Name: vm, TemplateName: "azure-compute-vm", TemplateVersion: "1.0.0",
			TemplateParameters: map[string]any{"deploymentManagerId": dm.DeploymentManagerID, "vmName": vm, "vmSize": size, "sshPublicKey": key}}
	}
	if _, err := prs.Create(ctx, request("5a6b7c8d-9e0f-4a1b-8c2d-000000000009", "edge-big", "Standard_E64s_v5")); !o2.IsBadRequest(err) || !strings.Contains(err.Error(), "Standard_E64s_v5") {
		t.Errorf("a size the provider does not support: %v", err)
	}
	data := request("5a6b7c8d-9e0f-4a1b-8c2d-000000000001", "edge-vm-1", "Standard_D2s_v5")
	if _, err := prs.Create(ctx, data); err != nil {
		t.Fatalf("create: %v", err)
	}
	r, err := prs.Wait(ctx, data.ProvisioningRequestID, o2.ProvisioningFulfilled)
	if err != nil {
		t.Fatalf("wait: %+v %v", r, err)
	}
	if !w.HasVM("edge-vm-1") || len(r.ProvisionedResourceSet.InfrastructureResourceIDs) != 1 {
		t.Fatalf("after FULFILLED: VM %v, provisioned %+v", w.HasVM("edge-vm-1"), r.ProvisionedResourceSet)
	}
	resourceID := r.ProvisionedResourceSet.InfrastructureResourceIDs[0]
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		page, err := c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("resourceId", resourceID), AllFields: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 1 {
			if page.Items[0].Extensions["subnet"] != "compute" || page.Items[0].Extensions["vmSize"] != "Standard_D2s_v5" {
				t.Errorf("resource %+v", page.Items[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resource %s of the VM not in the inventory", resourceID)
		}
	}

	w.FailNextDeployment("Allocation failed. We do not have sufficient capacity for the requested VM size in this region.")
	failing := request("5a6b7c8d-9e0f-4a1b-8c2d-000000000002", "edge-vm-2", "Standard_D2s_v5")
	if _, err := prs.Create(ctx, failing); err != nil {
		t.Fatalf("create: %v", err)
	}
	var pe *o2.ProvisioningError
	if _, err := prs.Wait(ctx, failing.ProvisioningRequestID, o2.ProvisioningFulfilled); !errors.As(err, &pe) || !strings.Contains(pe.Request.Status.Message, "sufficient capacity") {
		t.Errorf("a failed deployment: %v", err)
	}

	for _, id := range []string{data.ProvisioningRequestID, failing.ProvisioningRequestID} {
		if err := prs.Delete(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
		if err := prs.WaitDeleted(ctx, id); err != nil {
			t.Fatalf("wait deleted %s: %v", id, err)
		}
	}
	if w.HasVM("edge-vm-1") || w.HasNIC("edge-vm-1-nic") {
		t.Errorf("after the deletion: VM %v, NIC %v", w.HasVM("edge-vm-1"), w.HasNIC("edge-vm-1-nic"))
	}
}

// azureConnection routes every Azure client of the server to w's fakes.
func azureConnection(w *azuretest.World) azureprovider.Connection {
	return azureprovider.Connection{Transport: w.Transport(), Credential: azuretest.Credential()}
}

func azureHealth(ctx context.Context, t *testing.T, c *o2.Client, id string) o2.ProviderStatus {
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

func waitAzureUnhealthy(ctx context.Context, t *testing.T, c *o2.Client, id string) o2.ProviderStatus {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		st := azureHealth(ctx, t, c, id)
		if (!st.Healthy && st.Error != "") || time.Now().After(deadline) {
			return st
		}
	}
}

// TestAzureProviderFromConfig: an azure provider of the configuration
// file, whose client secret is in a file, needs no secrets key and is
// healthy once its inventory is in.
func TestAzureProviderFromConfig(t *testing.T) {
	w := azuretest.New("11111111-2222-3333-4444-555555555555", "rg-cfg", "northeurope", "vnet-cfg", "10.1.0.0/16")
	w.AddSubnet(azuretest.Subnet{Name: "compute", CIDR: "10.1.1.0/24"})
	w.AddSize(azuretest.Size{Name: "Standard_D2s_v5", Cores: 2, MemoryMB: 8192})
	secret := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secret, []byte(azureSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, c := startAzureApp(ctx, t, w, Options{Providers: []ProviderConfig{{
		Name: "azure-cfg", Type: "azure", SubscriptionID: w.Subscription, TenantID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		ClientID: "99999999-8888-7777-6666-555555555555", ClientSecretFile: secret, ResourceGroup: "rg-cfg", Location: "northeurope",
		Networking: &provider.AzureNetworking{VNetName: "vnet-cfg"},
	}}})
	page, err := c.Providers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "azure-cfg")})
	if err != nil || len(page.Items) != 1 || page.Items[0].Origin != o2.ProviderFromConfig || page.Items[0].Type != o2.ProviderTypeAzure {
		t.Fatalf("configured provider: %+v, %v", page, err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		pools, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "azure-cfg-compute")})
		if err != nil {
			t.Fatal(err)
		}
		if len(pools.Items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pool azure-cfg-compute; health %+v", azureHealth(ctx, t, c, page.Items[0].ProviderID))
		}
	}
	if st := azureHealth(ctx, t, c, page.Items[0].ProviderID); !st.Healthy {
		t.Errorf("health %+v", st)
	}
}
