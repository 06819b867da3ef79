package app

import (
	"log/slog"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	azureprovider "github.com/nephoran/o2ims/internal/provider/azure"
)

// azureFactory builds the providers of Azure resource groups; conn, zero
// in production, gives every one of them the transport and credential
// tests inject.
func azureFactory(conn azureprovider.Connection, logger *slog.Logger) provider.Factory {
	return func(name string, cfg provider.Config) (inventory.Provider, error) {
		opts := azureprovider.Options{
			Name: name, SubscriptionID: cfg.SubscriptionID, TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			ResourceGroup: cfg.ResourceGroup, Location: cfg.Location, Cloud: cfg.Cloud, Connection: conn,
		}
		if n := cfg.Networking; n != nil {
			opts.VNetName = n.VNetName
			for _, s := range n.Subnets {
				opts.Subnets = append(opts.Subnets, azureprovider.Subnet{Name: s.Name, Purpose: s.Purpose})
			}
		}
		if s := cfg.VMSizes; s != nil {
			opts.SupportedVMSizes, opts.DefaultVMSize = s.Supported, s.Default
		}
		if t := cfg.Tags; t != nil {
			opts.Tags = t.Default
		}
		if c := cfg.Capacity; c != nil {
			if len(c.Zones) > 0 {
				return nil, ims.Errorf(ims.EINVALID, "config.capacity.zones: an azure provider's budget is the location's (vcpus, memoryGiB), shared by its pools")
			}
			opts.Capacity = azureprovider.Budget{VCPUs: c.VCPUs, MemoryGiB: c.MemoryGiB}
		}
		return azureprovider.New(opts, logger.With("provider", name))
	}
}
