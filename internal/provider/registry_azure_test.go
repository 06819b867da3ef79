package provider_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// TestAzureRegistration: an azure registration through the API needs its
// subscription, service principal, resource group, location and virtual
// network; the client secret is stored sealed with the rest of its
// configuration and comes back whole after a restart.
func TestAzureRegistration(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.Open(t, sqlstoretest.Backends()[0]) // the rules are the registry's; SQLite suffices
	logger := slog.New(slog.DiscardHandler)
	var built []provider.Config
	factories := map[string]provider.Factory{
		"azure": func(name string, cfg provider.Config) (inventory.Provider, error) {
			built = append(built, cfg)
			return fakeProvider{name}, nil
		},
		"aws":        func(name string, cfg provider.Config) (inventory.Provider, error) { return fakeProvider{name}, nil },
		"kubernetes": func(name string, cfg provider.Config) (inventory.Provider, error) { return fakeProvider{name}, nil },
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := secrets.NewBox(key)
	reg := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{Box: box}, logger)

	net := &provider.AzureNetworking{VNetName: "vnet-edge", Subnets: []provider.AzureSubnet{{Name: "compute", Purpose: "compute"}}}
	full := provider.Config{
		SubscriptionID: "11111111-2222-3333-4444-555555555555", TenantID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", ClientID: "99999999-8888-7777-6666-555555555555",
		ClientSecret: "s3cr3t-client-secret", ResourceGroup: "rg-edge", Location: "westeurope", Networking: net,
		VMSizes:  &provider.AzureVMSizes{Supported: []string{"Standard_D2s_v5"}, Default: "Standard_D2s_v5"},
		Tags:     &provider.AWSTags{Default: map[string]string{"ManagedBy": "o2ims"}},
		Capacity: &provider.AWSCapacity{AWSBudget: provider.AWSBudget{VCPUs: 8, MemoryGiB: 32}},
	}
	with := func(change func(*provider.Config)) provider.Config {
		c := full
		change(&c)
		return c
	}
	for _, c := range []struct {
		name string
		typ  string
		cfg  provider.Config
		want string
	}{
		{"no subscription", "azure", with(func(c *provider.Config) { c.SubscriptionID = "" }), "config.subscriptionId: required"},
		{"no secret", "azure", with(func(c *provider.Config) { c.ClientSecret = "" }), "config: tenantId, clientId and clientSecret (a service principal) are required"},
		{"no resource group", "azure", with(func(c *provider.Config) { c.ResourceGroup = "" }), "config.resourceGroup: required"},
		{"no location", "azure", with(func(c *provider.Config) { c.Location = "" }), "config.location: required"},
		{"no vnet", "azure", with(func(c *provider.Config) { c.Networking = nil }), "config.networking.vnetName: required"},
		{"zones", "azure", with(func(c *provider.Config) {
			c.Capacity = &provider.AWSCapacity{Zones: map[string]provider.AWSBudget{"1": {VCPUs: 1, MemoryGiB: 1}}}
		}), "config.capacity.zones: an azure provider's budget is the location's"},
		{"aws keys", "azure", with(func(c *provider.Config) { c.Region = "us-east-1" }), "config: an azure provider takes subscriptionId"},
		{"kubeconfig", "azure", with(func(c *provider.Config) { c.Kubeconfig = "x" }), "config: an azure provider takes subscriptionId"},
		{"azure keys on aws", "aws", provider.Config{Region: "us-east-1", Location: "westeurope"}, "are for azure providers"},
		{"azure keys on kubernetes", "kubernetes", provider.Config{Kubeconfig: "x", ResourceGroup: "rg"}, "are for azure providers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := reg.Create(ctx, provider.Input{Name: "azure-1", Type: c.typ, Config: c.cfg})
			if ims.ErrorCode(err) != ims.EINVALID || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v, want 400 %q", err, c.want)
			}
		})
	}
	noKey := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{}, logger)
	if _, err := noKey.Create(ctx, provider.Input{Name: "azure-1", Type: "azure", Config: full}); ims.ErrorCode(err) != ims.EUNPROCESSABLE || !strings.Contains(err.Error(), "secrets key") {
		t.Errorf("without a secrets key: %v", err)
	}
	if len(built) != 0 {
		t.Fatalf("refused registrations were built: %+v", built)
	}

	if _, err := reg.Create(ctx, provider.Input{Name: "azure-1", Type: "azure", Config: full}); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ProviderRecords(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %v %v", recs, err)
	}
	if strings.Contains(recs[0].Config, "s3cr3t") || strings.Contains(string(recs[0].Doc), "s3cr3t") || strings.Contains(recs[0].Config, "rg-edge") {
		t.Fatal("the configuration is stored in clear")
	}
	built = nil
	again := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{Box: box}, logger)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	want := full
	want.SelfContained = true
	if len(built) != 1 || !reflect.DeepEqual(built[0], want) {
		t.Fatalf("after a restart built from %+v, want %+v", built, want)
	}
}
