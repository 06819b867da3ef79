package subscription

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Event attributes a subscription filter may name besides the object's own.
const (
	attrObjectType = "objectType"
	attrEventType  = "notificationEventType"
)

// objectKind is one object type of the inventory stream as one major
// version of the inventory API names and shows it.
type objectKind struct {
	schema *query.Schema
	name   string
}

// inventoryObjects are the object types of the inventory stream per
// inventory API major version, in the order their names are listed to
// clients. The Nephoran objects are the same in both.
var inventoryObjects = map[int][]objectKind{
	1: {
		{inventory.ResourceTypeSchema, "ResourceType"},
		{inventory.ResourcePoolSchema, "ResourcePool"},
		{inventory.ResourceSchema, "Resource"},
		{inventory.DeploymentManagerSchema, "DeploymentManager"},
	},
	2: {
		{inventory.ResourceTypeSchemaV2, "ResourceType"},
		{inventory.ResourcePoolSchemaV2, "ResourcePool"},
		{inventory.ResourceSchemaV2, "Resource"},
		{inventory.DeploymentManagerSchemaV2, "DeploymentManager"},
		{inventory.LocationSchema, "Location"},
		{inventory.OCloudSiteSchema, "OCloudSite"},
	},
}

var nephoranObjects = []objectKind{
	{lcm.PackageSchema, "CnfPackage"},
	{lcm.InstanceSchema, "CnfInstance"},
	{lcm.OpSchema, "LcmOpOcc"},
	{deployment.Schema, "Deployment"},
	{provisioning.Schema, "ProvisioningRequest"},
}

func init() {
	for m := range inventoryObjects {
		inventoryObjects[m] = append(inventoryObjects[m], nephoranObjects...)
	}
}

// objectsOf returns the object types a subscription of kind k sees.
func objectsOf(k Kind) []objectKind {
	if k.Stream != sqlstore.StreamInventory {
		return []objectKind{{alarms.RecordSchema, ""}}
	}
	if objs, ok := inventoryObjects[k.Major]; ok {
		return objs
	}
	return inventoryObjects[1]
}

// kindOf is the kind of a stored subscription.
func kindOf(sub sqlstore.Subscription) Kind {
	return Kind{Stream: sub.Stream, Major: max(sub.APIMajor, 1)}
}

// objectOf finds the object type of a table for kind k.
func objectOf(k Kind, table string) (objectKind, bool) {
	for _, o := range objectsOf(k) {
		if o.schema.Name == table {
			return o, true
		}
	}
	return objectKind{}, false
}

// ObjectTypeName is the O2ims name of the object type of an event's table
// (ResourcePool for resource_pools, Alarm for alarms), as subscription
// filters name it; a table without one keeps its own name.
func ObjectTypeName(stream, table string) string {
	if stream == sqlstore.StreamAlarm {
		return "Alarm"
	}
	if o, ok := objectOf(InventoryV2, table); ok {
		return o.name
	}
	return table
}

func objectTypeNames(k Kind) []string {
	var names []string
	for _, o := range objectsOf(k) {
		names = append(names, o.name)
	}
	return names
}

var inventoryEventNames = map[string]int{"CREATE": 0, "MODIFY": 1, "DELETE": 2}

// Matchers evaluate subscription filters on events. Parsed filters are
// cached per subscription.
type Matchers struct {
	mu    sync.Mutex
	cache map[string]compiled
}

// NewMatchers returns an empty matcher cache.
func NewMatchers() *Matchers { return &Matchers{cache: map[string]compiled{}} }

// compiled is a subscription filter split into event and object terms.
type compiled struct {
	filter     string
	eventTerms []query.Term
	object     query.Filter
}

func split(f query.Filter) compiled {
	var c compiled
	for _, t := range f.Terms {
		if len(t.Path) == 1 && (t.Path[0] == attrObjectType || t.Path[0] == attrEventType) {
			c.eventTerms = append(c.eventTerms, t)
		} else {
			c.object.Terms = append(c.object.Terms, t)
		}
	}
	return c
}

// Validate checks a subscription filter of stream: event attributes take
// known values with eq/neq/in/nin, and every other term must be valid for
// at least one of the object types the filter can match.
func (m *Matchers) Validate(k Kind, f query.Filter) error {
	c := split(f)
	stream := k.Stream
	var candidates []objectKind
	candidates = append(candidates, objectsOf(k)...)
	names := objectTypeNames(k)
	for _, t := range c.eventTerms {
		switch t.Op {
		case query.Eq, query.Neq, query.In, query.Nin:
		default:
			return ims.Errorf(ims.EINVALID, "filter: %s takes only eq, neq, in or nin, in %s", t.Path[0], t)
		}
		if t.Path[0] == attrObjectType {
			if stream != sqlstore.StreamInventory {
				return ims.Errorf(ims.EINVALID, "filter: objectType applies to inventory subscriptions only, in %s", t)
			}
			for _, v := range t.Values {
				if !slices.Contains(names, v) {
					return ims.Errorf(ims.EINVALID, "filter: unknown objectType %q in %s (use %s or %s)", v, t,
						strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
				}
			}
			if t.Op == query.Eq || t.Op == query.In {
				candidates = slices.DeleteFunc(candidates, func(o objectKind) bool { return !slices.Contains(t.Values, o.name) })
			}
			continue
		}
		for _, v := range t.Values {
			if _, ok := eventTypeValue(stream, v); !ok {
				return ims.Errorf(ims.EINVALID, "filter: unknown notificationEventType %q in %s", v, t)
			}
		}
	}
	if len(candidates) == 0 {
		return ims.Errorf(ims.EINVALID, "filter: the objectType terms exclude every object type")
	}
	for _, t := range c.object.Terms {
		var firstErr error
		ok := false
		for _, o := range candidates {
			err := query.Filter{Terms: []query.Term{t}}.Validate(o.schema)
			if err == nil {
				ok = true
				break
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if !ok {
			return firstErr
		}
	}
	return nil
}

// eventTypeValue parses an event type given by name or number.
func eventTypeValue(stream, v string) (int, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		max := 2
		if stream == sqlstore.StreamAlarm {
			max = 3
		}
		return n, n >= 0 && n <= max
	}
	if stream == sqlstore.StreamAlarm {
		t, ok := ims.AlarmEventTypeNames[strings.ToUpper(v)]
		return int(t), ok
	}
	n, ok := inventoryEventNames[strings.ToUpper(v)]
	return n, ok
}

func (m *Matchers) compiledFor(sub sqlstore.Subscription) compiled {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[sub.ID]; ok && c.filter == sub.Filter {
		return c
	}
	f, err := query.ParseFilter(sub.Filter)
	if err != nil {
		// Stored filters were validated; an unparsable one matches nothing
		// rather than everything.
		f = query.Filter{Terms: []query.Term{{Op: query.Eq, Path: []string{attrEventType}, Values: []string{"-1"}}}}
	}
	c := split(f)
	c.filter = sub.Filter
	m.cache[sub.ID] = c
	return c
}

// Forget drops a subscription's cached filter.
func (m *Matchers) Forget(id string) {
	m.mu.Lock()
	delete(m.cache, id)
	m.mu.Unlock()
}

// Match reports whether ev concerns sub: every event term holds, and the
// object terms hold on the prior or the post state of the object.
func (m *Matchers) Match(sub sqlstore.Subscription, ev sqlstore.Event) bool {
	obj, ok := objectOf(kindOf(sub), ev.ObjectType)
	if !ok {
		// An object type the subscription's API version does not have
		// (a v2 location for a v1 subscriber).
		return false
	}
	c := m.compiledFor(sub)
	eventDoc := map[string]any{attrEventType: float64(ev.EventType)}
	if obj.name != "" {
		eventDoc[attrObjectType] = obj.name
	}
	for _, t := range c.eventTerms {
		t := t
		if t.Path[0] == attrEventType {
			vals := make([]string, 0, len(t.Values))
			for _, v := range t.Values {
				if n, ok := eventTypeValue(ev.Stream, v); ok {
					vals = append(vals, strconv.Itoa(n))
				} else {
					vals = append(vals, "-1")
				}
			}
			t.Values = vals
		}
		if !(query.Filter{Terms: []query.Term{t}}).Match(eventSchema, eventDoc) {
			return false
		}
	}
	if len(c.object.Terms) == 0 {
		return true
	}
	sc := obj.schema
	for _, state := range []json.RawMessage{ev.Post, ev.Prior} {
		if len(state) == 0 {
			continue
		}
		var doc map[string]any
		if json.Unmarshal(state, &doc) != nil {
			continue
		}
		if c.object.Match(sc, doc) {
			return true
		}
	}
	return false
}

var eventSchema = &query.Schema{Name: "events", Object: "event", Attrs: []query.Attr{
	{Name: attrObjectType, Type: query.String},
	{Name: attrEventType, Type: query.Number},
}}
