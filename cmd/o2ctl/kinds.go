package main

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"strings"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// kind is one kind of object o2ctl gets and describes, with its SDK calls
// erased to any so that the commands handle every kind alike.
type kind struct {
	name     string   // plural, as typed: "resourcepools"
	singular string   // "resourcepool"
	aliases  []string // short names: "rp", "pool", "pools"
	title    string   // in messages: "resource pool"
	pooled   bool     // accepts --pool

	list func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) ([]any, string, error)
	all  func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) iter.Seq2[any, error]
	get  func(ctx context.Context, c *o2.Client, pool, id string) (any, error)
	id   func(any) string
	// describeOrder lists the attributes "describe" prints first, in order.
	describeOrder []string
	// display, when set, gives attributes "describe" shows as text rather
	// than as their value, such as a severity with its name.
	display func(any) map[string]string
	// defaultFields are attribute selectors a list adds unless
	// --all-fields or --exclude-fields is given, for attributes the
	// columns show that the server leaves out by default.
	defaultFields []string

	columns []column // "-o table"
	wide    []column // added by "-o wide"
	// explain, when set, is text "describe" prints after the attributes,
	// such as a deployment's placement decisions as a table.
	explain func(any) string
}

// column is one column of table output.
type column struct {
	header string
	value  func(any) string
}

// ops are the typed SDK calls of a kind.
type ops[T any] struct {
	list func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) (*o2.Page[T], error)
	all  func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) iter.Seq2[T, error]
	get  func(ctx context.Context, c *o2.Client, pool, id string) (*T, error)
	id   func(T) string
}

// erase fills the SDK calls of k from typed ops.
func erase[T any](k *kind, o ops[T]) *kind {
	k.list = func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) ([]any, string, error) {
		p, err := o.list(ctx, c, pool, opts)
		if err != nil {
			return nil, "", err
		}
		items := make([]any, len(p.Items))
		for i, it := range p.Items {
			items[i] = it
		}
		return items, p.NextMarker, nil
	}
	k.all = func(ctx context.Context, c *o2.Client, pool string, opts o2.ListOptions) iter.Seq2[any, error] {
		return func(yield func(any, error) bool) {
			for it, err := range o.all(ctx, c, pool, opts) {
				if !yield(it, err) {
					return
				}
			}
		}
	}
	k.get = func(ctx context.Context, c *o2.Client, pool, id string) (any, error) {
		v, err := o.get(ctx, c, pool, id)
		if err != nil {
			return nil, err
		}
		return *v, nil
	}
	k.id = func(v any) string { return o.id(v.(T)) }
	return k
}

// col returns a column reading a T.
func col[T any](header string, f func(T) string) column {
	return column{header: header, value: func(v any) string { return f(v.(T)) }}
}

// kinds returns every kind o2ctl knows: the inventory, then the
// monitoring kinds and subscriptions, then the CNF lifecycle kinds and
// the providers, then the deployments and recommendations, then the
// edge-enrolment kinds.
func kinds() []*kind {
	return append(append(append(append(inventoryKinds(), monitoringKinds()...), cnfKinds()...), deploymentKind(), recommendationKind()), append(agentKinds(), provisioningKinds()...)...)
}

// inventoryKinds returns the kinds of the inventory.
func inventoryKinds() []*kind {
	return []*kind{
		erase(&kind{
			name: "resourcepools", singular: "resourcepool", aliases: []string{"rp", "pool", "pools"},
			title:         "resource pool",
			describeOrder: []string{"resourcePoolId", "name", "description", "oCloudSiteId", "oCloudId", "globalLocationId", "location"},
			columns: []column{
				col("ID", func(p o2.ResourcePool) string { return p.ResourcePoolID }),
				col("NAME", func(p o2.ResourcePool) string { return p.Name }),
				col("LOCATION", func(p o2.ResourcePool) string { return p.Location }),
				col("GLOBAL LOCATION", func(p o2.ResourcePool) string { return p.GlobalLocationID }),
			},
			wide: []column{
				col("O-CLOUD", func(p o2.ResourcePool) string { return p.OCloudID }),
				col("DESCRIPTION", func(p o2.ResourcePool) string { return p.Description }),
			},
		}, ops[o2.ResourcePool]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.ResourcePool], error) {
				return c.ResourcePools().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.ResourcePool, error] {
				return c.ResourcePools().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.ResourcePool, error) {
				return c.ResourcePools().Get(ctx, id)
			},
			id: func(p o2.ResourcePool) string { return p.ResourcePoolID },
		}),
		erase(&kind{
			name: "resources", singular: "resource", aliases: []string{"res"},
			title: "resource", pooled: true,
			describeOrder: []string{"resourceId", "description", "resourcePoolId", "resourceTypeId", "parentId",
				"globalAssetId", "tags", "groups", "extensions", "elements"},
			columns: []column{
				col("ID", func(r o2.Resource) string { return r.ResourceID }),
				col("TAGS", func(r o2.Resource) string { return strings.Join(r.Tags, ",") }),
				col("DESCRIPTION", func(r o2.Resource) string { return r.Description }),
			},
			wide: []column{
				col("POOL", func(r o2.Resource) string { return r.ResourcePoolID }),
				col("TYPE", func(r o2.Resource) string { return r.ResourceTypeID }),
				col("PARENT", func(r o2.Resource) string { return r.ParentID }),
				col("GLOBAL ASSET ID", func(r o2.Resource) string { return r.GlobalAssetID }),
				col("GROUPS", func(r o2.Resource) string { return strings.Join(r.Groups, ",") }),
			},
		}, ops[o2.Resource]{
			list: func(ctx context.Context, c *o2.Client, pool string, o o2.ListOptions) (*o2.Page[o2.Resource], error) {
				if pool != "" {
					return c.Resources().ListInPool(ctx, pool, o)
				}
				return c.Resources().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, pool string, o o2.ListOptions) iter.Seq2[o2.Resource, error] {
				if pool != "" {
					return c.Resources().AllInPool(ctx, pool, o)
				}
				return c.Resources().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, pool, id string) (*o2.Resource, error) {
				if pool != "" {
					return c.Resources().Get(ctx, pool, id)
				}
				return c.Resources().GetByID(ctx, id)
			},
			id: func(r o2.Resource) string { return r.ResourceID },
		}),
		erase(&kind{
			name: "resourcetypes", singular: "resourcetype", aliases: []string{"rt"},
			title: "resource type",
			describeOrder: []string{"resourceTypeId", "name", "description", "vendor", "model", "version",
				"resourceKind", "resourceClass"},
			columns: []column{
				col("ID", func(t o2.ResourceType) string { return t.ResourceTypeID }),
				col("NAME", func(t o2.ResourceType) string { return t.Name }),
				col("KIND", func(t o2.ResourceType) string { return string(t.ResourceKind) }),
				col("CLASS", func(t o2.ResourceType) string { return string(t.ResourceClass) }),
				col("VENDOR", func(t o2.ResourceType) string { return t.Vendor }),
			},
			wide: []column{
				col("MODEL", func(t o2.ResourceType) string { return t.Model }),
				col("VERSION", func(t o2.ResourceType) string { return t.Version }),
				col("DESCRIPTION", func(t o2.ResourceType) string { return t.Description }),
			},
		}, ops[o2.ResourceType]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.ResourceType], error) {
				return c.ResourceTypes().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.ResourceType, error] {
				return c.ResourceTypes().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.ResourceType, error) {
				return c.ResourceTypes().Get(ctx, id)
			},
			id: func(t o2.ResourceType) string { return t.ResourceTypeID },
		}),
		erase(&kind{
			name: "deploymentmanagers", singular: "deploymentmanager", aliases: []string{"dm", "dms"},
			title: "deployment manager",
			describeOrder: []string{"deploymentManagerId", "name", "description", "oCloudId", "serviceUri",
				"supportedLocations", "capabilities", "capacity"},
			columns: []column{
				col("ID", func(d o2.DeploymentManager) string { return d.DeploymentManagerID }),
				col("NAME", func(d o2.DeploymentManager) string { return d.Name }),
				col("SERVICE URI", func(d o2.DeploymentManager) string { return d.ServiceURI }),
				col("LOCATIONS", func(d o2.DeploymentManager) string { return strings.Join(d.SupportedLocations, ",") }),
			},
			wide: []column{
				col("O-CLOUD", func(d o2.DeploymentManager) string { return d.OCloudID }),
				col("CAPABILITIES", func(d o2.DeploymentManager) string { return flatMap(d.Capabilities) }),
				col("CAPACITY", func(d o2.DeploymentManager) string { return flatMap(d.Capacity) }),
				col("DESCRIPTION", func(d o2.DeploymentManager) string { return d.Description }),
			},
		}, ops[o2.DeploymentManager]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.DeploymentManager], error) {
				return c.DeploymentManagers().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.DeploymentManager, error] {
				return c.DeploymentManagers().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.DeploymentManager, error) {
				return c.DeploymentManagers().Get(ctx, id)
			},
			id: func(d o2.DeploymentManager) string { return d.DeploymentManagerID },
		}),
		erase(&kind{
			name: "locations", singular: "location", aliases: []string{"loc"},
			title:         "location",
			describeOrder: []string{"globalLocationId", "name", "description", "address", "coordinate", "civicAddress", "oCloudSiteIds"},
			columns: []column{
				col("ID", func(l o2.Location) string { return l.GlobalLocationID }),
				col("NAME", func(l o2.Location) string { return l.Name }),
				col("ADDRESS", func(l o2.Location) string { return l.Address }),
				col("SITES", func(l o2.Location) string { return fmt.Sprint(len(l.OCloudSiteIDs)) }),
			},
			wide: []column{
				col("COORDINATE", func(l o2.Location) string {
					if l.Coordinate == nil {
						return ""
					}
					return strings.Trim(fmt.Sprint(l.Coordinate.Coordinates), "[]")
				}),
				col("DESCRIPTION", func(l o2.Location) string { return l.Description }),
			},
		}, ops[o2.Location]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.Location], error) {
				return c.Locations().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.Location, error] {
				return c.Locations().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.Location, error) {
				return c.Locations().Get(ctx, id)
			},
			id: func(l o2.Location) string { return l.GlobalLocationID },
		}),
		erase(&kind{
			name: "sites", singular: "site", aliases: []string{"ocloudsites", "ocloudsite"},
			title:         "O-Cloud site",
			describeOrder: []string{"oCloudSiteId", "name", "description", "globalLocationId", "resourcePools"},
			columns: []column{
				col("ID", func(s o2.OCloudSite) string { return s.OCloudSiteID }),
				col("NAME", func(s o2.OCloudSite) string { return s.Name }),
				col("LOCATION", func(s o2.OCloudSite) string { return s.GlobalLocationID }),
				col("POOLS", func(s o2.OCloudSite) string { return fmt.Sprint(len(s.ResourcePools)) }),
			},
			wide: []column{
				col("DESCRIPTION", func(s o2.OCloudSite) string { return s.Description }),
			},
		}, ops[o2.OCloudSite]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.OCloudSite], error) {
				return c.OCloudSites().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.OCloudSite, error] {
				return c.OCloudSites().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.OCloudSite, error) {
				return c.OCloudSites().Get(ctx, id)
			},
			id: func(s o2.OCloudSite) string { return s.OCloudSiteID },
		}),
	}
}

// findKind returns the kind called name (plural, singular or alias, in any
// case).
func findKind(name string) (*kind, error) {
	n := strings.ToLower(name)
	for _, k := range kinds() {
		if n == k.name || n == k.singular {
			return k, nil
		}
		for _, a := range k.aliases {
			if n == a {
				return k, nil
			}
		}
	}
	return nil, &usageError{fmt.Errorf("unknown kind %q; want one of %s", name, kindNames())}
}

// kindNames lists the kinds with their aliases, for messages and help,
// such as "resourcepools (rp, pool, pools), resources (res), ...".
func kindNames() string {
	var parts []string
	for _, k := range kinds() {
		parts = append(parts, fmt.Sprintf("%s (%s)", k.name, strings.Join(k.aliases, ", ")))
	}
	return strings.Join(parts, ", ")
}

// flatMap renders a map as "k=v,k=v" in key order.
func flatMap(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + scalar(m[k])
	}
	return strings.Join(parts, ",")
}
