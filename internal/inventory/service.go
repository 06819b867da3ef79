package inventory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Page size limits (SOL013 leaves them to the implementation).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
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

// ListRequest is a SOL013 collection query as received from a client.
type ListRequest struct {
	Filter         string
	Fields         string
	ExcludeFields  string
	AllFields      bool
	ExcludeDefault bool
	Limit          *int // nil means DefaultLimit
	Marker         string
}

// Page is one page of a collection, projected by the attribute selectors.
type Page struct {
	Items []map[string]any
	// NextMarker is set when more objects follow; pass it as Marker.
	NextMarker string
}

// List runs req over the objects of sc. Scope terms are added to the
// client's filter; they restrict a collection to, for example, one pool.
func (s *Service) List(ctx context.Context, sc *query.Schema, req ListRequest, scope ...query.Term) (Page, error) {
	f, err := query.ParseFilter(req.Filter)
	if err != nil {
		return Page{}, err
	}
	if err := f.Validate(sc); err != nil {
		return Page{}, err
	}
	f.Terms = append(f.Terms, scope...)
	sel, err := query.ParseSelection(sc, req.Fields, req.ExcludeFields, req.AllFields, req.ExcludeDefault)
	if err != nil {
		return Page{}, err
	}
	limit := DefaultLimit
	if req.Limit != nil {
		limit = *req.Limit
		if limit < 1 || limit > MaxLimit {
			return Page{}, ims.Errorf(ims.EINVALID, "limit: must be between 1 and %d, got %d", MaxLimit, limit)
		}
	}
	after, err := decodeMarker(req.Marker)
	if err != nil {
		return Page{}, err
	}
	docs, last, more, err := s.store.List(ctx, sc, f, limit, after)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: make([]map[string]any, 0, len(docs))}
	for _, d := range docs {
		var obj map[string]any
		if err := json.Unmarshal(d, &obj); err != nil {
			return Page{}, ims.Internal(fmt.Errorf("decode %s: %w", sc.Name, err), "reading failed")
		}
		page.Items = append(page.Items, sel.Apply(obj))
	}
	if more {
		page.NextMarker = encodeMarker(last)
	}
	return page, nil
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
func (s *Service) ListResourcesInPool(ctx context.Context, poolID string, req ListRequest) (Page, error) {
	if _, err := s.store.Get(ctx, ResourcePoolSchema, poolID); err != nil {
		return Page{}, err
	}
	return s.List(ctx, ResourceSchema, req, query.Term{Op: "eq", Path: []string{"resourcePoolId"}, Values: []string{poolID}})
}

// The next-page marker is the keyset position (the last id returned),
// wrapped so that clients treat it as opaque.
type marker struct {
	V     int    `json:"v"`
	After string `json:"a"`
}

func encodeMarker(lastID string) string {
	b, _ := json.Marshal(marker{V: 1, After: lastID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeMarker(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var m marker
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m.V != 1 || m.After == "" {
		return "", ims.Errorf(ims.EINVALID, "nextpage_opaque_marker: not a marker issued by this server")
	}
	return m.After, nil
}
