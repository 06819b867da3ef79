package app

import (
	"log/slog"

	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	awsprovider "github.com/nephoran/o2ims/internal/provider/aws"
)

// awsFactory builds the providers of AWS regions. A registration through
// the API is self-contained (its access key inline); one of the
// configuration file may name a credentials file or use the SDK's
// default chain.
func awsFactory(logger *slog.Logger) provider.Factory {
	return func(name string, cfg provider.Config) (inventory.Provider, error) {
		opts := awsprovider.Options{
			Name: name, Region: cfg.Region, Endpoint: cfg.Endpoint, SelfContained: cfg.SelfContained,
			CredentialsFile: cfg.CredentialsFile, Profile: cfg.Profile,
		}
		if c := cfg.Credentials; c != nil {
			opts.Credentials = &awsprovider.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
		}
		if v := cfg.VPC; v != nil {
			opts.VPCID = v.VPCID
			for _, s := range v.Subnets {
				opts.Subnets = append(opts.Subnets, awsprovider.Subnet{ID: s.ID, Zone: s.Zone, Type: s.Type})
			}
		}
		if t := cfg.InstanceTypes; t != nil {
			opts.SupportedInstanceTypes, opts.DefaultInstanceType = t.Supported, t.Default
		}
		if t := cfg.Tags; t != nil {
			opts.Tags = t.Default
		}
		if c := cfg.Capacity; c != nil {
			opts.Capacity.Budget = awsprovider.Budget{VCPUs: c.VCPUs, MemoryGiB: c.MemoryGiB}
			opts.Capacity.FromQuotas = c.FromQuotas
			if len(c.Zones) > 0 {
				opts.Capacity.Zones = map[string]awsprovider.Budget{}
				for z, b := range c.Zones {
					opts.Capacity.Zones[z] = awsprovider.Budget{VCPUs: b.VCPUs, MemoryGiB: b.MemoryGiB}
				}
			}
		}
		return awsprovider.New(opts, logger.With("provider", name))
	}
}
