// Package inventory is the O-Cloud inventory service: the queryable shape of
// each inventory object, listing and reading them with the SOL013 query
// language, and keeping the store in step with the providers.
package inventory

import "github.com/nephoran/o2ims/internal/query"

// The schemas name the table and columns of each object; the sqlstore
// migrations create exactly these. Attributes with a Column are indexed;
// the others are evaluated on the stored JSON document. The attributes
// marked Always are rendered, empty if need be, whenever the selection
// keeps them (all_fields shows every attribute of the O2ims object); the
// default response excludes extensions (and a resource's elements), as the
// O2ims API's exclude_default names them.
var (
	ResourceTypeSchema = &query.Schema{
		Name: "resource_types", Object: "resource type", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "resourceTypeId", Type: query.String, Column: "id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "description", Type: query.String, Always: true},
			{Name: "vendor", Type: query.String, Column: "vendor", Always: true},
			{Name: "model", Type: query.String, Column: "model", Always: true},
			{Name: "version", Type: query.String, Always: true},
			{Name: "resourceKind", Type: query.String, Column: "resource_kind"},
			{Name: "resourceClass", Type: query.String, Column: "resource_class"},
			// alarmDictionary is not stored: the service embeds the
			// O-Cloud's dictionary (CloudConfig.AlarmDictionary).
			{Name: "alarmDictionary", Type: query.Object, Complex: true, ExcludedByDefault: true},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
	// OCloudSchema is the shape of the O-Cloud (one object, not stored in
	// a table of its own), for the attribute selectors of its GET.
	OCloudSchema = &query.Schema{
		Name: "ocloud", Object: "O-Cloud",
		Attrs: []query.Attr{
			{Name: "oCloudId", Type: query.String},
			{Name: "globalCloudId", Type: query.String},
			{Name: "name", Type: query.String},
			{Name: "description", Type: query.String, Always: true},
			{Name: "serviceUri", Type: query.String},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
	ResourcePoolSchema = &query.Schema{
		Name: "resource_pools", Object: "resource pool", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "resourcePoolId", Type: query.String, Column: "id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "description", Type: query.String, Always: true},
			{Name: "oCloudId", Type: query.String},
			{Name: "globalLocationId", Type: query.String, Column: "global_location_id"},
			{Name: "location", Type: query.String},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
		// The site is the v2 model; v1 shows the site's location instead.
		Stored: []query.Attr{{Name: "oCloudSiteId", Type: query.String, Column: "ocloud_site_id"}},
	}
	ResourceSchema = &query.Schema{
		Name: "resources", Object: "resource", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "resourceId", Type: query.String, Column: "id"},
			{Name: "resourcePoolId", Type: query.String, Column: "pool_id"},
			{Name: "resourceTypeId", Type: query.String, Column: "type_id"},
			{Name: "globalAssetId", Type: query.String, Column: "global_asset_id", Always: true},
			{Name: "description", Type: query.String, Always: true},
			{Name: "parentId", Type: query.String, Column: "parent_id"},
			{Name: "elements", Type: query.Object, List: true, Complex: true, ExcludedByDefault: true, Always: true},
			{Name: "tags", Type: query.String, List: true, Complex: true, ElementTable: "resource_tags"},
			{Name: "groups", Type: query.String, List: true, Complex: true},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
		// Migration 00013 creates the indexes of these paths.
		IndexedPaths: [][]string{{"extensions", "cpuCores"}},
	}
	// LocationSchema and OCloudSiteSchema are the places of the O-Cloud
	// (O2ims v11, inventory v2 only). Their lists of sites and pools are
	// derived when read.
	LocationSchema = &query.Schema{
		Name: "locations", Object: "location", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "globalLocationId", Type: query.String, Column: "id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "description", Type: query.String, Always: true},
			{Name: "oCloudSiteIds", Type: query.String, List: true, Complex: true, Always: true, Derived: true},
			{Name: "coordinate", Type: query.Object, Complex: true},
			{Name: "civicAddress", Type: query.Object, List: true, Complex: true},
			{Name: "address", Type: query.String},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
	OCloudSiteSchema = &query.Schema{
		Name: "ocloud_sites", Object: "O-Cloud site", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "oCloudSiteId", Type: query.String, Column: "id"},
			{Name: "globalLocationId", Type: query.String, Column: "global_location_id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "description", Type: query.String, Always: true},
			{Name: "resourcePools", Type: query.String, List: true, Complex: true, Always: true, Derived: true},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
	DeploymentManagerSchema = &query.Schema{
		Name: "deployment_managers", Object: "deployment manager", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "deploymentManagerId", Type: query.String, Column: "id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "description", Type: query.String, Always: true},
			{Name: "oCloudId", Type: query.String},
			{Name: "serviceUri", Type: query.String},
			// O2ims makes these three mandatory: a provider that reports
			// none shows them empty.
			{Name: "supportedLocations", Type: query.String, List: true, Complex: true, Always: true},
			{Name: "capabilities", Type: query.Object, Complex: true, Always: true},
			{Name: "capacity", Type: query.Object, Complex: true, Always: true},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
)
