package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// azureFlags are the flags of "provider add --type azure"; --tag, --vcpus
// and --memory-gib are shared with --type aws.
type azureFlags struct {
	subscription, tenant, clientID, secretFile, resourceGroup, location, vnet, defaultSize, cloud string
	subnets, sizes                                                                                []string
}

var azureFlagNames = []string{"subscription-id", "tenant-id", "client-id", "client-secret-file", "resource-group", "location",
	"vnet", "azure-subnet", "vm-sizes", "default-vm-size", "cloud"}

func (f *azureFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.subscription, "subscription-id", "", "azure: the subscription")
	fs.StringVar(&f.tenant, "tenant-id", "", "azure: the service principal's tenant")
	fs.StringVar(&f.clientID, "client-id", "", "azure: the service principal's client (application) id")
	fs.StringVar(&f.secretFile, "client-secret-file", "", "azure: a file holding the client secret (default: the environment's AZURE_CLIENT_SECRET)")
	fs.StringVar(&f.resourceGroup, "resource-group", "", "azure: the resource group inventoried")
	fs.StringVar(&f.location, "location", "", "azure: the location, such as westeurope")
	fs.StringVar(&f.vnet, "vnet", "", "azure: the virtual network whose subnets are resource pools")
	fs.StringArrayVar(&f.subnets, "azure-subnet", nil, "azure: a subnet of --vnet, NAME[:compute|storage] (repeatable; default every subnet)")
	fs.StringSliceVar(&f.sizes, "vm-sizes", nil, "azure: the VM sizes offered, comma-separated")
	fs.StringVar(&f.defaultSize, "default-vm-size", "", "azure: the default VM size (one of --vm-sizes)")
	fs.StringVar(&f.cloud, "cloud", "", "azure: AzurePublic (default), AzureChina or AzureGovernment")
}

// used names the first azure flag given, if any.
func (f *azureFlags) used(fs *pflag.FlagSet) string { return firstChanged(fs, azureFlagNames) }

// azureConfig fills in the Azure part of cfg from f and the shared
// budget and tag flags of aws. The client secret is sent: the IMS stores
// it encrypted.
func (a *app) azureConfig(f *azureFlags, shared *awsFlags, cfg *o2.ProviderConfig) error {
	if f.subscription == "" || f.tenant == "" || f.clientID == "" || f.resourceGroup == "" || f.location == "" || f.vnet == "" {
		return &usageError{fmt.Errorf("--type azure needs --subscription-id, --tenant-id, --client-id, --resource-group, --location and --vnet")}
	}
	cfg.SubscriptionID, cfg.TenantID, cfg.ClientID = f.subscription, f.tenant, f.clientID
	cfg.ResourceGroup, cfg.Location, cfg.Cloud = f.resourceGroup, f.location, f.cloud
	cfg.Networking = &o2.AzureNetworking{VNetName: f.vnet}
	for _, s := range f.subnets {
		name, purpose, _ := strings.Cut(s, ":")
		if name == "" || strings.Contains(purpose, ":") {
			return &usageError{fmt.Errorf("--azure-subnet %q: want NAME[:compute|storage]", s)}
		}
		cfg.Networking.Subnets = append(cfg.Networking.Subnets, o2.AzureSubnet{Name: name, Purpose: purpose})
	}
	if len(f.sizes) > 0 || f.defaultSize != "" {
		cfg.VMSizes = &o2.AzureVMSizes{Supported: f.sizes, Default: f.defaultSize}
	}
	var err error
	if cfg.Tags, err = tagsOf(shared.tags); err != nil {
		return err
	}
	if cfg.Capacity, err = budgetOf(shared.vcpus, shared.memoryGiB); err != nil {
		return err
	}
	secret := a.getenv("AZURE_CLIENT_SECRET")
	if f.secretFile != "" {
		data, err := os.ReadFile(f.secretFile)
		if err != nil {
			return err
		}
		secret = strings.TrimSpace(string(data))
	}
	if secret == "" {
		return &usageError{fmt.Errorf("--type azure needs the client secret: AZURE_CLIENT_SECRET in the environment, or --client-secret-file")}
	}
	cfg.ClientSecret = secret
	return nil
}
