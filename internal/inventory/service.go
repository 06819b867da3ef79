package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the inventory needs from persistence.
type Store interface {
	OCloudID(ctx context.Context) (string, error)
	List(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error)
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	ApplySnapshot(ctx context.Context, source string, sets []sqlstore.ObjectSet) ([]sqlstore.Change, error)
	ReservedByPool(ctx context.Context, now time.Time, ids []string) (map[string]placement.Resources, error)
	FreeCapacityAtLeast(need placement.Resources, now time.Time) query.Cond
	Update(ctx context.Context, fn func(tx *sqlstore.ObjectTx) error) error
}

// CloudConfig describes this O-Cloud; the identifier itself is kept in the store.
type CloudConfig struct {
	GlobalCloudID string
	Name          string
	Description   string
	ServiceURI    string
	Extensions    ims.Extensions
	// AlarmDictionary, when set, is the dictionary of the alarms raised on
	// any resource of this O-Cloud; O2ims v1 embeds it in each resource
	// type as alarmDictionary.
	AlarmDictionary *ims.AlarmDictionary
}

// Service answers inventory queries.
type Service struct {
	store  Store
	cloud  CloudConfig
	logger *slog.Logger

	oCloudID atomic.Value // string, once read

	placesChanged PlacesChanged

	dictOnce sync.Once
	dict     map[string]any // the decoded AlarmDictionary
	dictErr  error
}

// NewService returns an inventory service over store.
func NewService(store Store, cloud CloudConfig, logger *slog.Logger) *Service {
	return &Service{store: store, cloud: cloud, logger: logger}
}

// CloudInfo describes the O-Cloud.
func (s *Service) CloudInfo(ctx context.Context) (ims.OCloud, error) {
	// The identifier never changes once the store has one: read it once.
	id, _ := s.oCloudID.Load().(string)
	if id == "" {
		var err error
		if id, err = s.store.OCloudID(ctx); err != nil {
			return ims.OCloud{}, err
		}
		s.oCloudID.Store(id)
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

// List runs req over the objects of sc, the schema of one inventory
// version, shown as that version shows them.
func (s *Service) List(ctx context.Context, sc *query.Schema, req collection.Request) (collection.Page, error) {
	// Version 1 shows resources as stored (see StoredResource).
	return collection.List(ctx, s.store, sc, req, collection.Options{Decorate: s.decorator(sc), Stored: sc == ResourceSchema})
}

// decorator completes stored documents of sc for reading: the version's
// shape, and v1's embedded alarm dictionary.
func (s *Service) decorator(sc *query.Schema) func(context.Context, []map[string]any) error {
	v := versionOfSchema(sc)
	return func(ctx context.Context, objs []map[string]any) error {
		if v != nil {
			if err := s.Shape(ctx, v, sc.Name, objs); err != nil {
				return err
			}
		}
		if sc == ResourceTypeSchema {
			return s.decorateTypes(ctx, objs)
		}
		return nil
	}
}

// Get returns one object of sc, shown as sc's version shows it.
func (s *Service) Get(ctx context.Context, sc *query.Schema, id string) (map[string]any, error) {
	doc, err := s.store.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	return s.read(ctx, sc, doc, s.decorator(sc))
}

// read decodes a stored document and decorates it.
func (s *Service) read(ctx context.Context, sc *query.Schema, doc json.RawMessage, decorate func(context.Context, []map[string]any) error) (map[string]any, error) {
	var obj map[string]any
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, ims.Internal(fmt.Errorf("decode %s: %w", sc.Object, err), "reading failed")
	}
	if err := decorate(ctx, []map[string]any{obj}); err != nil {
		return nil, err
	}
	return obj, nil
}

// decorateTypes embeds the alarm dictionary in resource types (excluded
// by default, shown with all_fields or fields=alarmDictionary). The
// decoded dictionary is made once and shared: answers only read it.
func (s *Service) decorateTypes(_ context.Context, objs []map[string]any) error {
	if s.cloud.AlarmDictionary == nil {
		return nil
	}
	s.dictOnce.Do(func() {
		b, err := json.Marshal(s.cloud.AlarmDictionary)
		if err == nil {
			err = json.Unmarshal(b, &s.dict)
		}
		s.dictErr = err
	})
	if s.dictErr != nil {
		return ims.Internal(s.dictErr, "reading failed")
	}
	for _, o := range objs {
		o["alarmDictionary"] = s.dict
	}
	return nil
}

// GetResource returns a resource of version v only if it belongs to pool.
// The resource is read first: a resource of the pool costs one query, and
// only a miss reads the pool, to say which of the two is unknown.
func (s *Service) GetResource(ctx context.Context, v *Version, poolID, id string) (map[string]any, error) {
	obj, err := s.Get(ctx, v.Resources, id)
	if err == nil && obj["resourcePoolId"] == poolID {
		return obj, nil
	}
	if err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
		return nil, err
	}
	if _, perr := s.store.Get(ctx, ResourcePoolSchema, poolID); perr != nil {
		return nil, perr
	}
	return nil, ims.Errorf(ims.ENOTFOUND, "resource %q not found in resource pool %q", id, poolID)
}

// StoredResource returns the stored document of resource id, split into
// its members, when it is in pool poolID. It is what version 1 shows (its
// shape and decoration change nothing of a resource), so a reader may
// serve its bytes without decoding them (query.Selection.ApplyRawObject).
// ok is false, with no error, whenever GetResource should answer
// instead: another version, an unknown resource or pool, another pool,
// or a document that does not split plainly.
func (s *Service) StoredResource(ctx context.Context, v *Version, poolID, id string) (doc query.RawObject, ok bool, err error) {
	if v.Major != 1 {
		return query.RawObject{}, false, nil
	}
	raw, err := s.store.Get(ctx, v.Resources, id)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return query.RawObject{}, false, nil
	}
	if err != nil {
		return query.RawObject{}, false, err
	}
	pool, err := json.Marshal(poolID)
	if err != nil {
		return query.RawObject{}, false, nil
	}
	if doc, ok = query.ParseRawObject(raw); !ok {
		return query.RawObject{}, false, nil
	}
	if m, found := doc.Member("resourcePoolId"); !found || !bytes.Equal(m, pool) {
		return query.RawObject{}, false, nil
	}
	return doc, true, nil
}

// ListResourcesInPool lists the resources of one pool; an unknown pool is ENOTFOUND.
func (s *Service) ListResourcesInPool(ctx context.Context, v *Version, poolID string, req collection.Request) (collection.Page, error) {
	if _, err := s.store.Get(ctx, ResourcePoolSchema, poolID); err != nil {
		return collection.Page{}, err
	}
	return collection.List(ctx, s.store, v.Resources, req, collection.Options{
		Scope:    []query.Term{{Op: query.Eq, Path: []string{"resourcePoolId"}, Values: []string{poolID}}},
		Decorate: s.decorator(v.Resources),
		Stored:   v.Major == 1,
	})
}

// ListPools lists resource pools of version v, each with its free
// capacity; minCapacity (the "cpu:4,memory:8Gi" form, may be empty) keeps
// only pools whose free capacity covers it, evaluated in the store with
// the filter.
func (s *Service) ListPools(ctx context.Context, v *Version, req collection.Request, minCapacity string, conds ...query.Cond) (collection.Page, error) {
	opts := collection.Options{Decorate: s.poolDecorator(v), Conds: conds}
	if minCapacity != "" {
		need, err := placement.ParseResources(minCapacity)
		if err != nil {
			return collection.Page{}, ims.Errorf(ims.EINVALID, "minCapacity: %s", ims.ErrorMessage(err))
		}
		opts.Conds = append(opts.Conds, s.store.FreeCapacityAtLeast(need, time.Now()))
	}
	return collection.List(ctx, s.store, v.ResourcePools, req, opts)
}

// GetPool returns one resource pool of version v with its free capacity.
func (s *Service) GetPool(ctx context.Context, v *Version, id string) (map[string]any, error) {
	doc, err := s.store.Get(ctx, v.ResourcePools, id)
	if err != nil {
		return nil, err
	}
	return s.read(ctx, v.ResourcePools, doc, s.poolDecorator(v))
}

func (s *Service) poolDecorator(v *Version) func(context.Context, []map[string]any) error {
	return func(ctx context.Context, objs []map[string]any) error {
		if err := s.Shape(ctx, v, ResourcePoolSchema.Name, objs); err != nil {
			return err
		}
		return s.decoratePools(ctx, objs)
	}
}

// decoratePools completes extensions.capacity with what deployments hold
// (reserved) and what is left (free); both change without the pool's
// document changing, so they are computed on reading.
func (s *Service) decoratePools(ctx context.Context, objs []map[string]any) error {
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		if id, ok := o["resourcePoolId"].(string); ok {
			ids = append(ids, id)
		}
	}
	reserved, err := s.store.ReservedByPool(ctx, time.Now(), ids)
	if err != nil {
		return err
	}
	for _, o := range objs {
		ext, _ := o["extensions"].(map[string]any)
		capacity, _ := ext["capacity"].(map[string]any)
		if capacity == nil {
			continue
		}
		id, _ := o["resourcePoolId"].(string)
		alloc, req := PoolCapacity(capacity)
		r := reserved[id]
		capacity["reserved"] = CapacityMap(r)
		capacity["free"] = CapacityMap(alloc.Sub(req).Sub(r))
	}
	return nil
}

// PoolCapacity reads the allocatable and requested figures of a pool's
// extensions.capacity.
func PoolCapacity(capacity map[string]any) (alloc, requested placement.Resources) {
	read := func(v any) placement.Resources {
		m, _ := v.(map[string]any)
		num := func(k string) int64 {
			switch n := m[k].(type) {
			case float64:
				return int64(n)
			case int64:
				return n
			case int:
				return int64(n)
			case json.Number:
				i, _ := n.Int64()
				return i
			}
			return 0
		}
		return placement.Resources{CPUMillis: num("cpuMillicores"), MemoryBytes: num("memoryBytes"), Pods: num("pods")}
	}
	return read(capacity["allocatable"]), read(capacity["requested"])
}

// CapacityMap renders an amount as the API's Capacity object.
func CapacityMap(r placement.Resources) map[string]any {
	return map[string]any{"cpuMillicores": r.CPUMillis, "memoryBytes": r.MemoryBytes, "pods": r.Pods}
}
