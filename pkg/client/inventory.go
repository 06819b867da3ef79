package o2

import (
	"context"
	"iter"
)

// ResourceTypeService reads the resource types of the inventory. Get one
// with Client.ResourceTypes.
type ResourceTypeService struct {
	col collection[ResourceType]
}

// ResourceTypes returns the service for the resource types of the
// inventory.
func (c *Client) ResourceTypes() *ResourceTypeService {
	return &ResourceTypeService{col: newCollection[ResourceType](c, "resource type", c.inventory, "resourceTypes")}
}

// List returns the page of resource types opts select.
func (s *ResourceTypeService) List(ctx context.Context, opts ListOptions) (*Page[ResourceType], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every resource type opts select, fetching pages of
// opts.Limit as needed.
func (s *ResourceTypeService) All(ctx context.Context, opts ListOptions) iter.Seq2[ResourceType, error] {
	return s.col.all(ctx, opts)
}

// Get returns the resource type with identifier id.
func (s *ResourceTypeService) Get(ctx context.Context, id string) (*ResourceType, error) {
	return s.col.get(ctx, id)
}

// ResourcePoolService reads the resource pools of the inventory. Get one
// with Client.ResourcePools.
type ResourcePoolService struct {
	col collection[ResourcePool]
}

// ResourcePools returns the service for the resource pools of the
// inventory.
func (c *Client) ResourcePools() *ResourcePoolService {
	return &ResourcePoolService{col: newCollection[ResourcePool](c, "resource pool", c.inventory, "resourcePools")}
}

// List returns the page of resource pools opts select.
func (s *ResourcePoolService) List(ctx context.Context, opts ListOptions) (*Page[ResourcePool], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every resource pool opts select, fetching pages of
// opts.Limit as needed.
func (s *ResourcePoolService) All(ctx context.Context, opts ListOptions) iter.Seq2[ResourcePool, error] {
	return s.col.all(ctx, opts)
}

// Get returns the resource pool with identifier id.
func (s *ResourcePoolService) Get(ctx context.Context, id string) (*ResourcePool, error) {
	return s.col.get(ctx, id)
}

// DeploymentManagerService reads the deployment managers of the inventory.
// Get one with Client.DeploymentManagers.
type DeploymentManagerService struct {
	col collection[DeploymentManager]
}

// DeploymentManagers returns the service for the deployment managers of
// the inventory.
func (c *Client) DeploymentManagers() *DeploymentManagerService {
	return &DeploymentManagerService{col: newCollection[DeploymentManager](c, "deployment manager", c.inventory, "deploymentManagers")}
}

// List returns the page of deployment managers opts select.
func (s *DeploymentManagerService) List(ctx context.Context, opts ListOptions) (*Page[DeploymentManager], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every deployment manager opts select, fetching pages
// of opts.Limit as needed.
func (s *DeploymentManagerService) All(ctx context.Context, opts ListOptions) iter.Seq2[DeploymentManager, error] {
	return s.col.all(ctx, opts)
}

// Get returns the deployment manager with identifier id.
func (s *DeploymentManagerService) Get(ctx context.Context, id string) (*DeploymentManager, error) {
	return s.col.get(ctx, id)
}

// ResourceService reads the resources of the inventory, either across
// every resource pool (the Nephoran /o2ims/v1/resources collection) or in
// one pool. Get one with Client.Resources.
type ResourceService struct {
	c   *Client
	col collection[Resource] // every pool's resources
}

// Resources returns the service for the resources of the inventory.
func (c *Client) Resources() *ResourceService {
	return &ResourceService{c: c, col: newCollection[Resource](c, "resource", NephoranAPIPrefix, "resources")}
}

// inPool returns the collection of the resources of pool poolID.
func (s *ResourceService) inPool(poolID string) (collection[Resource], error) {
	pools := newCollection[ResourcePool](s.c, "resource pool", s.c.inventory, "resourcePools")
	return child[Resource](pools, poolID, "resource", "resources")
}

// List returns the page of resources opts select, across every resource
// pool.
func (s *ResourceService) List(ctx context.Context, opts ListOptions) (*Page[Resource], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every resource opts select, across every resource
// pool, fetching pages of opts.Limit as needed.
func (s *ResourceService) All(ctx context.Context, opts ListOptions) iter.Seq2[Resource, error] {
	return s.col.all(ctx, opts)
}

// ListInPool returns the page of the resources of pool poolID that opts
// select. An unknown pool is a ProblemError with status 404.
func (s *ResourceService) ListInPool(ctx context.Context, poolID string, opts ListOptions) (*Page[Resource], error) {
	col, err := s.inPool(poolID)
	if err != nil {
		return nil, err
	}
	return col.list(ctx, opts)
}

// AllInPool iterates over every resource of pool poolID that opts select,
// fetching pages of opts.Limit as needed.
func (s *ResourceService) AllInPool(ctx context.Context, poolID string, opts ListOptions) iter.Seq2[Resource, error] {
	col, err := s.inPool(poolID)
	if err != nil {
		return func(yield func(Resource, error) bool) { yield(Resource{}, err) }
	}
	return col.all(ctx, opts)
}

// Get returns the resource with identifier id of pool poolID, with all its
// attributes.
func (s *ResourceService) Get(ctx context.Context, poolID, id string) (*Resource, error) {
	col, err := s.inPool(poolID)
	if err != nil {
		return nil, err
	}
	return col.get(ctx, id)
}

// GetByID returns the resource with identifier id, whichever pool it is
// in, with all its attributes.
func (s *ResourceService) GetByID(ctx context.Context, id string) (*Resource, error) {
	return s.col.get(ctx, id)
}
