package httpapi

import (
	"context"
	"time"

	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/query"
)

var providerSchema = &query.Schema{Name: "providers", Object: "provider", Attrs: []query.Attr{
	{Name: "providerId", Type: query.String},
	{Name: "name", Type: query.String},
	{Name: "type", Type: query.String},
	{Name: "origin", Type: query.String},
	{Name: "endpoint", Type: query.String},
	{Name: "createdAt", Type: query.Time},
	{Name: "status", Type: query.Object, Complex: true},
}}

// providerView is the representation of a provider: never its credentials.
func (h *nephoranHandlers) providerView(reg provider.Registration) map[string]any {
	v := map[string]any{"providerId": reg.ID, "name": reg.Name, "type": reg.Type, "origin": reg.Origin, "status": h.providerStatus(reg)}
	if reg.Endpoint != "" {
		v["endpoint"] = reg.Endpoint
	}
	if !reg.CreatedAt.IsZero() {
		v["createdAt"] = reg.CreatedAt.UTC().Format(query.TimeLayout)
	}
	return v
}

func (h *nephoranHandlers) providerStatus(reg provider.Registration) map[string]any {
	st := map[string]any{"providerId": reg.ID, "name": reg.Name, "healthy": false}
	s, ok := h.providers.Status(reg)
	if !ok {
		st["error"] = "not running"
		return st
	}
	st["healthy"] = s.Healthy
	if !s.LastAttempt.IsZero() {
		st["lastAttempt"] = s.LastAttempt.UTC().Format(time.RFC3339Nano)
	}
	if !s.LastSuccess.IsZero() {
		st["lastSync"] = s.LastSuccess.UTC().Format(time.RFC3339Nano)
	}
	if s.LastError != "" {
		st["error"] = s.LastError
	}
	return st
}

func (h *nephoranHandlers) ListProviders(ctx context.Context, req nephapi.ListProvidersRequestObject) (nephapi.ListProvidersResponseObject, error) {
	p := req.Params
	var values []any
	for _, reg := range h.providers.List() {
		values = append(values, h.providerView(reg))
	}
	page, err := staticList(providerSchema, values, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) CreateProvider(ctx context.Context, req nephapi.CreateProviderRequestObject) (nephapi.CreateProviderResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a provider body is required")
	}
	c := req.Body.Config
	reg, err := h.providers.Create(ctx, provider.Input{
		Name: req.Body.Name,
		Type: string(req.Body.Type),
		Config: provider.Config{
			Region:              deref(c.Region),
			Endpoint:            deref(c.Endpoint),
			Credentials:         awsCredentials(c.Credentials),
			VPC:                 awsVPC(c.Vpc),
			InstanceTypes:       awsInstanceTypes(c.InstanceTypes),
			Tags:                awsTags(c.Tags),
			Capacity:            awsCapacity(c.Capacity),
			SubscriptionID:      deref(c.SubscriptionId),
			TenantID:            deref(c.TenantId),
			ClientID:            deref(c.ClientId),
			ClientSecret:        deref(c.ClientSecret),
			ResourceGroup:       deref(c.ResourceGroup),
			Location:            deref(c.Location),
			Cloud:               string(deref(c.Cloud)),
			Networking:          azureNetworking(c.Networking),
			VMSizes:             azureVMSizes(c.VmSizes),
			Kubeconfig:          deref(req.Body.Config.Kubeconfig),
			KubeconfigPath:      deref(req.Body.Config.KubeconfigPath),
			Context:             deref(req.Body.Config.Context),
			Repository:          deref(req.Body.Config.Repository),
			Delivery:            string(deref(req.Body.Config.Delivery)),
			Branch:              deref(req.Body.Config.Branch),
			Directory:           deref(req.Body.Config.Directory),
			Username:            deref(req.Body.Config.Username),
			Password:            deref(req.Body.Config.Password),
			TargetCluster:       deref(req.Body.Config.TargetCluster),
			BlueprintRepository: deref(req.Body.Config.BlueprintRepository),
			Blueprint:           deref(req.Body.Config.Blueprint),
			Namespace:           deref(req.Body.Config.Namespace),
			AutoApprove:         deref(req.Body.Config.AutoApprove),
		},
	})
	if err != nil {
		return nil, err
	}
	v, err := fromMap[nephapi.Provider](h.providerView(reg))
	if err != nil {
		return nil, err
	}
	loc := "/o2ims/v1/providers/" + reg.ID
	return nephapi.CreateProvider201JSONResponse{Body: v, Headers: nephapi.CreateProvider201ResponseHeaders{Location: &loc}}, nil
}

func (h *nephoranHandlers) GetProvidersHealth(ctx context.Context, _ nephapi.GetProvidersHealthRequestObject) (nephapi.GetProvidersHealthResponseObject, error) {
	out := nephapi.GetProvidersHealth200JSONResponse{}
	for _, reg := range h.providers.List() {
		st, err := fromMap[nephapi.ProviderStatus](h.providerStatus(reg))
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (h *nephoranHandlers) GetProvider(ctx context.Context, req nephapi.GetProviderRequestObject) (nephapi.GetProviderResponseObject, error) {
	reg, err := h.providers.Get(req.ProviderId.String())
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.Provider](providerSchema, h.providerView(reg), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) DeleteProvider(ctx context.Context, req nephapi.DeleteProviderRequestObject) (nephapi.DeleteProviderResponseObject, error) {
	if err := h.providers.Delete(ctx, req.ProviderId.String()); err != nil {
		return nil, err
	}
	return nephapi.DeleteProvider204Response{}, nil
}

// The AWS parts of a provider registration, nil when absent.

func awsCredentials(c *nephapi.AWSCredentials) *provider.AWSCredentials {
	if c == nil {
		return nil
	}
	return &provider.AWSCredentials{AccessKeyID: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: deref(c.SessionToken)}
}

func awsVPC(v *nephapi.AWSVPC) *provider.AWSVPC {
	if v == nil {
		return nil
	}
	out := &provider.AWSVPC{VPCID: v.VpcId}
	for _, s := range deref(v.Subnets) {
		out.Subnets = append(out.Subnets, provider.AWSSubnet{ID: s.Id, Zone: deref(s.Zone), Type: string(deref(s.Type))})
	}
	return out
}

func awsInstanceTypes(t *nephapi.AWSInstanceTypes) *provider.AWSInstanceTypes {
	if t == nil {
		return nil
	}
	return &provider.AWSInstanceTypes{Supported: deref(t.Supported), Default: deref(t.Default)}
}

func awsTags(t *nephapi.AWSTags) *provider.AWSTags {
	if t == nil {
		return nil
	}
	return &provider.AWSTags{Default: deref(t.Default)}
}

func awsCapacity(c *nephapi.AWSCapacity) *provider.AWSCapacity {
	if c == nil {
		return nil
	}
	out := &provider.AWSCapacity{AWSBudget: provider.AWSBudget{VCPUs: deref(c.Vcpus), MemoryGiB: deref(c.MemoryGiB)}, FromQuotas: deref(c.FromQuotas)}
	if z := deref(c.Zones); len(z) > 0 {
		out.Zones = map[string]provider.AWSBudget{}
		for name, b := range z {
			out.Zones[name] = provider.AWSBudget{VCPUs: b.Vcpus, MemoryGiB: b.MemoryGiB}
		}
	}
	return out
}

// The Azure parts of a provider registration, nil when absent.

func azureNetworking(n *nephapi.AzureNetworking) *provider.AzureNetworking {
	if n == nil {
		return nil
	}
	out := &provider.AzureNetworking{VNetName: n.VnetName}
	for _, s := range deref(n.Subnets) {
		out.Subnets = append(out.Subnets, provider.AzureSubnet{Name: s.Name, Purpose: string(deref(s.Purpose))})
	}
	return out
}

func azureVMSizes(s *nephapi.AzureVMSizes) *provider.AzureVMSizes {
	if s == nil {
		return nil
	}
	return &provider.AzureVMSizes{Supported: deref(s.Supported), Default: deref(s.Default)}
}
