package local

import (
	"maps"
	"slices"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// unknown stands in for a vendor or model the machine does not reveal, so
// that resource types stay well-formed and comparable.
const unknown = "unknown"

// typeSpec describes the resource type a discovered device belongs to.
type typeSpec struct {
	class       ims.ResourceClass
	kind        ims.ResourceKind
	vendor      string
	model       string
	version     string
	name        string
	description string
}

// typeRegistry collects the resource types actually used by one discovery,
// one per (class, vendor, model).
type typeRegistry struct {
	ids   idMinter
	types map[string]*ims.ResourceType
	// versionConflict marks types whose devices disagree on the version
	// (e.g. two disks of one model on different firmware); such a type gets
	// an empty version rather than one that depends on enumeration order.
	versionConflict map[string]bool
}

func newTypeRegistry(ids idMinter) *typeRegistry {
	return &typeRegistry{ids: ids, types: map[string]*ims.ResourceType{}, versionConflict: map[string]bool{}}
}

// use registers spec if it is new and returns its type id.
func (r *typeRegistry) use(spec typeSpec) string {
	vendor := orUnknown(spec.vendor)
	model := orUnknown(spec.model)
	key := "type/" + keyPart(string(spec.class)) + "/" + keyPart(vendor) + "/" + keyPart(model)
	id := r.ids.id(key)
	if t, ok := r.types[id]; ok {
		if t.Version != spec.version {
			r.versionConflict[id] = true
		}
		return id
	}
	r.types[id] = &ims.ResourceType{
		ResourceTypeID: id,
		Name:           spec.name,
		Description:    spec.description,
		Vendor:         vendor,
		Model:          model,
		Version:        spec.version,
		ResourceKind:   spec.kind,
		ResourceClass:  spec.class,
	}
	return id
}

// list returns the registered types sorted by id.
func (r *typeRegistry) list() []ims.ResourceType {
	out := make([]ims.ResourceType, 0, len(r.types))
	for _, id := range slices.Sorted(maps.Keys(r.types)) {
		t := *r.types[id]
		if r.versionConflict[id] {
			t.Version = ""
		}
		out = append(out, t)
	}
	return out
}

func orUnknown(s string) string {
	if s = squeeze(s); s == "" {
		return unknown
	}
	return s
}

// displayName joins the informative parts of a name, dropping placeholders,
// so a type reads "Samsung SSD 870 disk" rather than "unknown unknown disk".
func displayName(parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = squeeze(p); p != "" && p != unknown {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}
