package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the inventory needs from persistence.
type Store interface {
	OCloudID(ctx context.Context) (string, error)
	List(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error)
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	ApplySnapshot(ctx context.Context, source string, sets []sqlstore.ObjectSet) ([]sqlstore.Change, error)
}

// CloudConfig describes this O-Cloud; the identifier itself is kept in the store.
type CloudConfig struct {
	GlobalCloudID string
	Name          string
	Description   string
	ServiceURI    string
	Extensions    ims.Extensions
}

// Service answers inventory queries.
type Service struct {
	store  Store
	cloud  CloudConfig
	logger *slog.Logger
}

// NewService returns an inventory service over store.
func NewService(store Store, cloud CloudConfig, logger *slog.Logger) *Service {
	return &Service{store: store, cloud: cloud, logger: logger}
}

// CloudInfo describes the O-Cloud.
func (s *Service) CloudInfo(ctx context.Context) (ims.OCloud, error) {
	id, err := s.store.OCloudID(ctx)
	if err != nil {
		return ims.OCloud{}, err
	}
	return ims.OCloud{
		OCloudID:      id,
		GlobalCloudID: s.cloud.GlobalCloudID,
		Name:          s.cloud.Name,
		Description:   s.cloud.Description,
		ServiceURI:    s.cloud.ServiceURI,
		Extensions:    s.cloud.Extensions,
	}, nil
}

// List runs req over the objects of sc.
func (s *Service) List(ctx context.Context, sc *query.Schema, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, sc, req, collection.Options{})
}

// Get returns one object of sc as JSON.
func (s *Service) Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error) {
	return s.store.Get(ctx, sc, id)
}

// GetResource returns a resource only if it belongs to pool.
func (s *Service) GetResource(ctx context.Context, poolID, id string) (json.RawMessage, error) {
	if _, err := s.store.Get(ctx, ResourcePoolSchema, poolID); err != nil {
		return nil, err
	}
	doc, err := s.store.Get(ctx, ResourceSchema, id)
	if err != nil {
		return nil, err
	}
	var r struct {
		ResourcePoolID string `json:"resourcePoolId"`
	}
	if err := json.Unmarshal(doc, &r); err != nil {
		return nil, ims.Internal(fmt.Errorf("decode resource: %w", err), "reading failed")
	}
	if r.ResourcePoolID != poolID {
		return nil, ims.Errorf(ims.ENOTFOUND, "resource %q not found in resource pool %q", id, poolID)
	}
	return doc, nil
}

// ListResourcesInPool lists the resources of one pool; an unknown pool is ENOTFOUND.
func (s *Service) ListResourcesInPool(ctx context.Context, poolID string, req collection.Request) (collection.Page, error) {
	if _, err := s.store.Get(ctx, ResourcePoolSchema, poolID); err != nil {
		return collection.Page{}, err
	}
	return collection.List(ctx, s.store, ResourceSchema, req, collection.Options{
		Scope: []query.Term{{Op: query.Eq, Path: []string{"resourcePoolId"}, Values: []string{poolID}}},
	})
}
