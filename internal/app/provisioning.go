package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	awsprovider "github.com/nephoran/o2ims/internal/provider/aws"
	azureprovider "github.com/nephoran/o2ims/internal/provider/azure"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// ProvisioningOptions configure the O2ims_InfrastructureProvisioning
// service.
type ProvisioningOptions struct {
	// TemplatesDir holds the operator's templates (*.yaml), beside the
	// built-in ones; empty or absent means none.
	TemplatesDir string
	// Timeout bounds one apply or delete of a request (default 30m).
	Timeout time.Duration
	// CloudPollInterval is how often a CloudFormation stack or an ARM
	// deployment under way is checked (default: each realizer's own, 10s
	// for AWS, 15s for Azure).
	CloudPollInterval time.Duration
	// Realizers add realizers by template kind; the kubernetes-namespace
	// realizer is always there.
	Realizers map[string]provisioning.Realizer
}

// newProvisioning builds the provisioning service: the templates, and
// the realizers by kind.
func newProvisioning(opts ProvisioningOptions, store *sqlstore.Store, syncer *inventory.Syncer, raisers *alarms.Raisers, box *secrets.Box, logger *slog.Logger, wake func()) (*provisioning.Service, error) {
	catalog, err := provisioning.LoadCatalog(opts.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("provisioning templates: %w", err)
	}
	// The realizers by template kind; a kind without one is listed but
	// refused. Realizers that need the providers are added here.
	stacks := awsprovider.NewStackRealizer(providerOf[*awsprovider.Provider](syncer, "AWS"), logger.With("kind", awsprovider.TemplateKind))
	arm := azureprovider.NewARMRealizer(providerOf[*azureprovider.Provider](syncer, "Azure"), logger.With("kind", azureprovider.TemplateKind))
	if opts.CloudPollInterval > 0 {
		stacks.RetryAfter, arm.PollInterval = opts.CloudPollInterval, opts.CloudPollInterval
	}
	realizers := map[string]provisioning.Realizer{
		provisioning.KindNamespace: provisioning.NewNamespaceRealizer(clusters{store: store, syncer: syncer}, logger),
		awsprovider.TemplateKind:   stacks,
		azureprovider.TemplateKind: arm,
	}
	maps.Copy(realizers, opts.Realizers)
	popts := provisioning.Options{Realizers: realizers, Timeout: opts.Timeout, Releasing: raisers.ExpectRemoval}
	if box != nil {
		// Requests' secret (writeOnly) parameters are stored sealed.
		popts.Sealer = box
	}
	return provisioning.NewService(store, catalog, popts, logger, wake), nil
}

// providerOf finds the running provider of type P (an AWS or Azure
// provider) whose deployment manager has a given id, for the realizer of
// its templates; kind names the provider type in the error.
func providerOf[P interface{ DeploymentManagerID() string }](syncer *inventory.Syncer, kind string) func(context.Context, string) (P, error) {
	return func(_ context.Context, id string) (P, error) {
		for _, st := range syncer.Status() {
			p, ok := syncer.Provider(st.Name)
			if !ok {
				continue
			}
			if t, ok := p.(P); ok && t.DeploymentManagerID() == id {
				return t, nil
			}
		}
		var none P
		return none, ims.Errorf(ims.ENOTFOUND, "deployment manager %s is not a registered %s provider's", id, kind)
	}
}
