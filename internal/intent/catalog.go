package intent

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/ims"
)

// Resources are what one replica asks for, as Kubernetes quantities.
type Resources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Package is the CNF package that runs a network function.
type Package struct {
	VnfdID    string     `json:"vnfdId,omitempty"`
	PackageID string     `json:"packageId,omitempty"`
	FlavourID string     `json:"flavourId,omitempty"`
	Replicas  int        `json:"replicas,omitempty"`
	Resources *Resources `json:"resources,omitempty"`
}

// Catalog maps network functions (amf, smf, …) to packages.
type Catalog map[string]Package

// DefaultCatalog maps each network function to the package whose VNFD id
// is the function's name.
func DefaultCatalog() Catalog {
	c := Catalog{}
	for _, f := range Functions {
		c[f] = Package{VnfdID: f}
	}
	return c
}

// ParseCatalog reads a YAML or JSON catalog keyed by network function,
// such as `amf: {vnfdId: vnfd-amf, flavourId: small, replicas: 2,
// resources: {cpu: "1", memory: 1Gi}}`; functions it does not name keep
// the default entry.
func ParseCatalog(b []byte) (Catalog, error) {
	var file Catalog
	if err := yaml.UnmarshalStrict(b, &file); err != nil {
		return nil, err
	}
	c := DefaultCatalog()
	for f, e := range file {
		if !slices.Contains(Functions, f) {
			return nil, fmt.Errorf("%q is not a network function (%s)", f, strings.Join(Functions, ", "))
		}
		if e.VnfdID == "" && e.PackageID == "" {
			return nil, fmt.Errorf("%s names neither vnfdId nor packageId", f)
		}
		if e.Replicas < 0 || e.Replicas > 1000 {
			return nil, fmt.Errorf("%s: replicas must be between 0 and 1000", f)
		}
		c[f] = e
	}
	return c, nil
}

// LoadCatalog reads the catalog file at path; an empty path gives the
// default catalog.
func LoadCatalog(path string) (Catalog, error) {
	if path == "" {
		return DefaultCatalog(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c, err := ParseCatalog(b)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// Component is one network function of a plan, with its package.
type Component struct {
	// Name is the component's name (15 characters at most).
	Name     string
	Function string
	Package
}

// Components maps the functions of the requirements to packages: the
// replicas are the larger of the requirement's and the catalog's, and the
// requirement's resources override the catalog's.
func (c Catalog) Components(reqs Requirements) ([]Component, error) {
	var out []Component
	for _, f := range reqs.Functions {
		e, ok := c[f.Name]
		if !ok {
			return nil, ims.Errorf(ims.EUNPROCESSABLE, "the catalog has no CNF package for %s", f.Name)
		}
		comp := Component{Name: ComponentName(f.Name), Function: f.Name, Package: e}
		comp.Replicas = max(f.Replicas, e.Replicas)
		if e.Resources != nil {
			r := *e.Resources
			comp.Resources = &r
		}
		if reqs.CPU != "" || reqs.Memory != "" {
			if comp.Resources == nil {
				comp.Resources = &Resources{}
			}
			if reqs.CPU != "" {
				comp.Resources.CPU = reqs.CPU
			}
			if reqs.Memory != "" {
				comp.Resources.Memory = reqs.Memory
			}
		}
		out = append(out, comp)
	}
	return out, nil
}

// ComponentName fits a network function into a component name (15
// characters).
func ComponentName(f string) string {
	if f == "near-rt-ric" {
		return "ric"
	}
	return f
}
