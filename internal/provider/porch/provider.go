// Package porch is the provider of Porch deployment managers (Nephio R5):
// a Kubernetes API server where Porch serves porch.kpt.dev/v1alpha1, with a
// blueprint package and a deployment repository. Deployments naming it are
// delivered as package revisions that Porch clones from the blueprint,
// renders with the deployment's values, proposes and, with auto-approval,
// publishes; the GitOps agent of the cluster the deployment repository
// syncs to applies them. It reports one deployment manager and no pools.
package porch

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"k8s.io/client-go/rest"

	"github.com/nephoran/o2ims/internal/ims"
	porchclient "github.com/nephoran/o2ims/internal/porch"
)

// ProviderType is the provider type and the deployment manager's
// extensions.provider.
const ProviderType = "porch"

// Options configure a Porch deployment manager.
type Options struct {
	// Name is the provider's and the deployment manager's name.
	Name string
	// Config reaches the API server that serves Porch.
	Config *rest.Config
	// Porch names the repositories and the blueprint, and whether
	// proposals are approved.
	Porch porchclient.Options
	// TargetCluster names the Kubernetes provider whose cluster applies
	// the deployment repository; empty when none is registered.
	TargetCluster string
}

// Provider is a Porch deployment manager.
type Provider struct {
	opts   Options
	client *porchclient.Client
	dmID   string
}

var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:porch"))

// New returns the provider; Porch is first contacted by Discover.
func New(opts Options, logger *slog.Logger) (*Provider, error) {
	c, err := porchclient.New(opts.Config, opts.Porch, logger)
	if err != nil {
		return nil, err
	}
	return &Provider{opts: opts, client: c, dmID: uuid.NewSHA1(idSpace, []byte(opts.Name)).String()}, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opts.Name }

// Client delivers deployments through Porch.
func (p *Provider) Client() *porchclient.Client { return p.client }

// TargetCluster names the Kubernetes provider the deployment repository
// syncs to.
func (p *Provider) TargetCluster() string { return p.opts.TargetCluster }

// ServerURL is the API server that serves Porch.
func (p *Provider) ServerURL() string { return p.opts.Config.Host }

// Discover checks that Porch answers and reports the deployment manager;
// a Porch that does not answer is a failed discovery, which makes the
// provider unhealthy.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	if err := p.client.Check(ctx); err != nil {
		return ims.Snapshot{}, fmt.Errorf("porch at %s: %w", p.ServerURL(), err)
	}
	ext := ims.Extensions{
		"provider": ProviderType, "providerName": p.opts.Name, "delivery": "porch",
		"repository": p.client.DeploymentRepository(), "blueprint": p.client.Blueprint(), "autoApprove": p.opts.Porch.AutoApprove,
	}
	if p.opts.TargetCluster != "" {
		ext["targetCluster"] = p.opts.TargetCluster
	}
	return ims.Snapshot{DeploymentManagers: []ims.DeploymentManager{{
		DeploymentManagerID: p.dmID,
		Name:                p.opts.Name,
		Description:         "Porch package revisions in repository " + p.client.DeploymentRepository() + " from blueprint " + p.client.Blueprint(),
		ServiceURI:          p.ServerURL(),
		Capabilities:        map[string]any{"delivery": "porch", "packageFormat": "kpt"},
		Extensions:          ext,
	}}}, nil
}
