package main

import (
	"context"
	"iter"
	"strings"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// provisioningKinds are the provisioning requests and the templates they
// name.
func provisioningKinds() []*kind {
	return []*kind{provisioningRequestKind(), templateKind()}
}

func provisioningRequestKind() *kind {
	return erase(&kind{
		name: "provisioningrequests", singular: "provisioningrequest", aliases: []string{"pr", "prs", "provisioning"},
		title:         "provisioning request",
		describeOrder: []string{"provisioningRequestReference", "provisioningRequestData", "provisionedResourceSet", "status"},
		columns: []column{
			col("ID", func(r o2.ProvisioningRequest) string { return r.ProvisioningRequestData.ProvisioningRequestID }),
			col("NAME", func(r o2.ProvisioningRequest) string { return r.ProvisioningRequestData.Name }),
			col("TEMPLATE", func(r o2.ProvisioningRequest) string {
				return r.ProvisioningRequestData.TemplateName + " " + r.ProvisioningRequestData.TemplateVersion
			}),
			col("PHASE", func(r o2.ProvisioningRequest) string { return string(r.Status.ProvisioningPhase) }),
			col("UPDATED", func(r o2.ProvisioningRequest) string { return r.Status.UpdateTime }),
		},
		wide: []column{
			col("NODE CLUSTER", func(r o2.ProvisioningRequest) string { return r.ProvisionedResourceSet.NodeClusterID }),
			col("RESOURCES", func(r o2.ProvisioningRequest) string {
				var parts []string
				for _, s := range r.Status.InfrastructureResourceProvisioningStatus {
					parts = append(parts, s.ResourceName+"="+s.ResourceProvisioningPhase)
				}
				return strings.Join(parts, ",")
			}),
			col("MESSAGE", func(r o2.ProvisioningRequest) string { return r.Status.Message }),
		},
	}, ops[o2.ProvisioningRequest]{
		list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.ProvisioningRequest], error) {
			return c.ProvisioningRequests().List(ctx, o)
		},
		all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.ProvisioningRequest, error] {
			return c.ProvisioningRequests().All(ctx, o)
		},
		get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.ProvisioningRequest, error) {
			return c.ProvisioningRequests().Get(ctx, id)
		},
		id: func(r o2.ProvisioningRequest) string { return r.ProvisioningRequestData.ProvisioningRequestID },
	})
}

func templateKind() *kind {
	return erase(&kind{
		name: "templates", singular: "template", aliases: []string{"tpl", "tpls", "managedinfrastructuretemplates"},
		title:         "managed infrastructure template",
		describeOrder: []string{"artifactResourceId", "name", "version", "description", "extensions", "parameterSchema"},
		columns: []column{
			col("NAME", func(t o2.ManagedInfrastructureTemplate) string { return t.Name }),
			col("VERSION", func(t o2.ManagedInfrastructureTemplate) string { return t.Version }),
			col("KIND", func(t o2.ManagedInfrastructureTemplate) string { return t.Extensions["kind"] }),
			col("REALIZABLE", func(t o2.ManagedInfrastructureTemplate) string { return t.Extensions["realizable"] }),
		},
		wide: []column{
			col("ID", func(t o2.ManagedInfrastructureTemplate) string { return t.ArtifactResourceID }),
			col("DESCRIPTION", func(t o2.ManagedInfrastructureTemplate) string { return t.Description }),
		},
	}, ops[o2.ManagedInfrastructureTemplate]{
		list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.ManagedInfrastructureTemplate], error) {
			return c.Templates().List(ctx, o)
		},
		all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.ManagedInfrastructureTemplate, error] {
			return c.Templates().All(ctx, o)
		},
		get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.ManagedInfrastructureTemplate, error) {
			return c.Templates().Get(ctx, id)
		},
		id: func(t o2.ManagedInfrastructureTemplate) string { return t.ArtifactResourceID },
	})
}
