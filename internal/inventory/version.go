package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// Version is one major version of the O2ims_InfrastructureInventory API:
// how it shows the stored objects. Both versions read the same tables; a
// version's schemas name the attributes it has (for filters and
// selectors), and Shape converts stored documents into its objects.
type Version struct {
	Major int
	// Prefix is the API's URL prefix, e.g. /o2ims-infrastructureInventory/v2.
	Prefix string
	// The object kinds of this version; nil where it has none.
	ResourceTypes, ResourcePools, Resources, DeploymentManagers, Locations, OCloudSites *query.Schema
}

// The schemas of v2 that differ from v1 (O2ims v11): a resource type
// names its alarm dictionary instead of embedding it, a pool names its
// site instead of its location, a resource has no parentId, and the lists
// and objects v11 requires are always present.
var (
	ResourceTypeSchemaV2 = derive(ResourceTypeSchema, []string{"alarmDictionary"},
		query.Attr{Name: "alarmDictionaryId", Type: query.String, Always: true})
	ResourcePoolSchemaV2 = derive(ResourcePoolSchema, []string{"oCloudId", "globalLocationId", "location"},
		query.Attr{Name: "oCloudSiteId", Type: query.String, Column: "ocloud_site_id", Always: true})
	ResourceSchemaV2          = always(derive(ResourceSchema, []string{"parentId"}), "tags", "groups")
	DeploymentManagerSchemaV2 = derive(DeploymentManagerSchema, nil)
)

// The two versions served.
var (
	V1 = &Version{Major: 1, Prefix: "/o2ims-infrastructureInventory/v1",
		ResourceTypes: ResourceTypeSchema, ResourcePools: ResourcePoolSchema, Resources: ResourceSchema,
		DeploymentManagers: DeploymentManagerSchema}
	V2 = &Version{Major: 2, Prefix: "/o2ims-infrastructureInventory/v2",
		ResourceTypes: ResourceTypeSchemaV2, ResourcePools: ResourcePoolSchemaV2, Resources: ResourceSchemaV2,
		DeploymentManagers: DeploymentManagerSchemaV2, Locations: LocationSchema, OCloudSites: OCloudSiteSchema}
)

// VersionOf returns the inventory version with the given major number.
func VersionOf(major int) (*Version, bool) {
	switch major {
	case 1:
		return V1, true
	case 2:
		return V2, true
	}
	return nil, false
}

// Schemas lists the version's object schemas.
func (v *Version) Schemas() []*query.Schema {
	var out []*query.Schema
	for _, sc := range []*query.Schema{v.ResourceTypes, v.ResourcePools, v.Resources, v.DeploymentManagers, v.Locations, v.OCloudSites} {
		if sc != nil {
			out = append(out, sc)
		}
	}
	return out
}

// Schema returns the version's schema of a table, or nil when the
// version does not show that kind of object.
func (v *Version) Schema(table string) *query.Schema {
	for _, sc := range v.Schemas() {
		if sc.Name == table {
			return sc
		}
	}
	return nil
}

// versionOfSchema finds the version a schema belongs to (v1 for schemas
// both share).
func versionOfSchema(sc *query.Schema) *Version {
	if slices.Contains(V1.Schemas(), sc) {
		return V1
	}
	if slices.Contains(V2.Schemas(), sc) {
		return V2
	}
	return nil
}

// ObjectPath is the path of an object of table under the version's
// prefix; doc is its state (a resource's path names its pool).
func (v *Version) ObjectPath(table, id string, doc json.RawMessage) (string, bool) {
	switch table {
	case ResourceTypeSchema.Name:
		return v.Prefix + "/resourceTypes/" + id, true
	case ResourcePoolSchema.Name:
		return v.Prefix + "/resourcePools/" + id, true
	case DeploymentManagerSchema.Name:
		return v.Prefix + "/deploymentManagers/" + id, true
	case ResourceSchema.Name:
		var r struct {
			ResourcePoolID string `json:"resourcePoolId"`
		}
		_ = json.Unmarshal(doc, &r)
		return v.Prefix + "/resourcePools/" + r.ResourcePoolID + "/resources/" + id, true
	case LocationSchema.Name:
		if v.Locations != nil {
			return v.Prefix + "/locations/" + id, true
		}
	case OCloudSiteSchema.Name:
		if v.OCloudSites != nil {
			return v.Prefix + "/oCloudSites/" + id, true
		}
	}
	return "", false
}

// Shape converts decoded stored documents of table, in place, into the
// objects of version v, with the attributes derived from other objects
// (a location's sites, a site's pools).
func (s *Service) Shape(ctx context.Context, v *Version, table string, objs []map[string]any) error {
	switch table {
	case ResourcePoolSchema.Name:
		for _, o := range objs {
			if v.Major == 1 {
				delete(o, "oCloudSiteId")
			} else {
				delete(o, "oCloudId")
				delete(o, "globalLocationId")
				delete(o, "location")
			}
		}
	case ResourceSchema.Name:
		if v.Major >= 2 {
			for _, o := range objs {
				dropParent(o)
			}
		}
	case ResourceTypeSchema.Name:
		if v.Major >= 2 {
			for _, o := range objs {
				o["alarmDictionaryId"] = s.alarmDictionaryID()
			}
		}
	case LocationSchema.Name:
		return s.derive(ctx, objs, "globalLocationId", OCloudSiteSchema, "globalLocationId", "oCloudSiteId", "oCloudSiteIds")
	case OCloudSiteSchema.Name:
		return s.derive(ctx, objs, "oCloudSiteId", ResourcePoolSchemaV2, "oCloudSiteId", "resourcePoolId", "resourcePools")
	}
	return nil
}

func (s *Service) alarmDictionaryID() string {
	if s.cloud.AlarmDictionary == nil {
		return ""
	}
	return s.cloud.AlarmDictionary.AlarmDictionaryID
}

// dropParent removes v1's parentId from a resource and its elements.
func dropParent(o map[string]any) {
	delete(o, "parentId")
	els, _ := o["elements"].([]any)
	for _, e := range els {
		if m, ok := e.(map[string]any); ok {
			dropParent(m)
		}
	}
}

// derive sets objs[i][into] to the ids (idAttr) of the objects of
// other whose ref attribute is objs[i][key], in one query for the page.
func (s *Service) derive(ctx context.Context, objs []map[string]any, key string, other *query.Schema, ref, idAttr, into string) error {
	if len(objs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(objs))
	for _, o := range objs {
		if k, ok := o[key].(string); ok {
			keys = append(keys, k)
		}
	}
	found := map[string][]any{}
	if len(keys) > 0 {
		f := query.Filter{Terms: []query.Term{{Op: query.In, Path: []string{ref}, Values: keys}}}
		err := collection.Each(ctx, s.store, other, f, func(doc json.RawMessage) error {
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				return ims.Internal(fmt.Errorf("decode %s: %w", other.Name, err), "reading failed")
			}
			k, _ := m[ref].(string)
			found[k] = append(found[k], m[idAttr])
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, o := range objs {
		k, _ := o[key].(string)
		ids := found[k]
		if ids == nil {
			ids = []any{}
		}
		o[into] = ids
	}
	return nil
}

// derive makes a schema from base without the attributes named in drop
// and with extra added: the next version's shape of the same table.
func derive(base *query.Schema, drop []string, extra ...query.Attr) *query.Schema {
	sc := *base
	sc.Attrs = nil
	for _, a := range base.Attrs {
		if !slices.Contains(drop, a.Name) {
			sc.Attrs = append(sc.Attrs, a)
		}
	}
	sc.Attrs = append(sc.Attrs, extra...)
	// Columns of base that this version does not show are still written.
	sc.Stored = nil
	for _, a := range append(base.Attrs, base.Stored...) {
		if a.Column != "" && !slices.ContainsFunc(sc.Attrs, func(b query.Attr) bool { return b.Column == a.Column }) {
			sc.Stored = append(sc.Stored, a)
		}
	}
	return &sc
}

// always marks the named attributes of sc Always.
func always(sc *query.Schema, names ...string) *query.Schema {
	for i := range sc.Attrs {
		if slices.Contains(names, sc.Attrs[i].Name) {
			sc.Attrs[i].Always = true
		}
	}
	return sc
}
