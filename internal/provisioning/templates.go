package provisioning

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/query"
)

// builtin holds the templates shipped with the server, one YAML file each.
//
//go:embed templates
var builtin embed.FS

// MaxTemplateBytes bounds one template file.
const MaxTemplateBytes = 1 << 20

// ParameterDeploymentManager is the parameter every template takes: the
// deployment manager whose cluster or cloud account realizes the request.
const ParameterDeploymentManager = "deploymentManagerId"

// TemplateSchema describes ManagedInfrastructureTemplate for the SOL013
// query language of the templates collection.
var TemplateSchema = &query.Schema{
	Name: "managed_infrastructure_templates", Object: "managed infrastructure template",
	Attrs: []query.Attr{
		{Name: "artifactResourceId", Type: query.String},
		{Name: "name", Type: query.String},
		{Name: "version", Type: query.String},
		{Name: "description", Type: query.String},
		{Name: "parameterSchema", Type: query.Object, Complex: true},
		{Name: "extensions", Type: query.Object, Complex: true},
	},
}

// templateFile is the YAML form of a template.
type templateFile struct {
	Name            string          `json:"name"`
	Version         string          `json:"version"`
	Description     string          `json:"description"`
	Kind            string          `json:"kind"`
	ParameterSchema json.RawMessage `json:"parameterSchema"`
	Defaults        map[string]any  `json:"defaults"`
	Body            string          `json:"body"`
}

// ParseTemplate parses one template file (YAML: name, version,
// description, kind, parameterSchema, optional defaults and body) and
// checks it: the parameter schema is a valid OpenAPI v3 schema of an
// object that requires deploymentManagerId, and the defaults satisfy it.
func ParseTemplate(b []byte) (Template, error) {
	if len(b) > MaxTemplateBytes {
		return Template{}, fmt.Errorf("larger than %d bytes", MaxTemplateBytes)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return Template{}, fmt.Errorf("not YAML: %w", err)
	}
	var f templateFile
	dec := json.NewDecoder(strings.NewReader(string(j)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Template{}, fmt.Errorf("not a template: %w", err)
	}
	switch {
	case f.Name == "":
		return Template{}, errors.New("name is required")
	case f.Version == "":
		return Template{}, errors.New("version is required")
	case f.Kind == "":
		return Template{}, errors.New("kind is required")
	case len(f.ParameterSchema) == 0:
		return Template{}, errors.New("parameterSchema is required")
	}
	t := Template{Name: f.Name, Version: f.Version, Description: f.Description, Kind: f.Kind, ParameterSchema: f.ParameterSchema, Defaults: f.Defaults}
	if f.Body != "" {
		t.Body = []byte(f.Body)
	}
	sc, err := compileSchema(t.ParameterSchema)
	if err != nil {
		return Template{}, err
	}
	if sc.Type == nil || !sc.Type.Is(openapi3.TypeObject) {
		return Template{}, errors.New("parameterSchema: must be of type object")
	}
	if sc.Properties[ParameterDeploymentManager] == nil || !slices.Contains(sc.Required, ParameterDeploymentManager) {
		return Template{}, fmt.Errorf("parameterSchema: must require the parameter %s", ParameterDeploymentManager)
	}
	for k := range t.Defaults {
		if sc.Properties[k] == nil && (sc.AdditionalProperties.Has == nil || !*sc.AdditionalProperties.Has) && sc.AdditionalProperties.Schema == nil {
			return Template{}, fmt.Errorf("defaults: %s is not a parameter of the schema", k)
		}
	}
	return t, nil
}

// compileSchema reads a parameter schema as an OpenAPI v3 schema object.
func compileSchema(raw json.RawMessage) (*openapi3.Schema, error) {
	var sc openapi3.Schema
	if err := json.Unmarshal(raw, &sc); err != nil {
		return nil, fmt.Errorf("parameterSchema: not an OpenAPI v3 schema object: %w", err)
	}
	if err := sc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("parameterSchema: not a valid OpenAPI v3 schema: %w", err)
	}
	return &sc, nil
}

// TemplateID is a template's artifactResourceId: a UUID derived from its
// name and version, the same on every server.
func TemplateID(t Template) string {
	return uuid.NewSHA1(templateNamespace, []byte(t.Name+"/"+t.Version)).String()
}

var templateNamespace = uuid.MustParse("6d2f53f6-86f6-4b8e-9e6a-0f3c8a0b1f2e")

// Catalog is the set of templates a server offers.
type Catalog struct {
	templates []Template
}

// BuiltinTemplates parses every template file embedded from templates/.
func BuiltinTemplates() ([]Template, error) {
	return readTemplates(builtin, "templates")
}

func readTemplates(fsys fs.FS, dir string) ([]Template, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		t, err := ParseTemplate(b)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", e.Name(), err)
		}
		out = append(out, t)
	}
	return out, nil
}

// LoadCatalog returns the built-in templates and those of dir (the
// operator's, *.yaml and *.yml; dir may be empty or absent). An
// operator's template replaces a built-in one of the same name and
// version; two files of one source naming the same template are an error.
func LoadCatalog(dir string) (*Catalog, error) {
	ts, err := BuiltinTemplates()
	if err != nil {
		return nil, fmt.Errorf("built-in templates: %w", err)
	}
	c, err := NewCatalog(ts)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return c, nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	own, err := readTemplates(os.DirFS(filepath.Clean(dir)), ".")
	if err != nil {
		return nil, fmt.Errorf("templates of %s: %w", dir, err)
	}
	if _, err := NewCatalog(own); err != nil {
		return nil, fmt.Errorf("templates of %s: %w", dir, err)
	}
	for _, t := range own {
		c.templates = slices.DeleteFunc(c.templates, func(b Template) bool { return b.Name == t.Name && b.Version == t.Version })
		c.templates = append(c.templates, t)
	}
	c.sort()
	return c, nil
}

// NewCatalog returns a catalog of ts, which must name distinct templates.
func NewCatalog(ts []Template) (*Catalog, error) {
	c := &Catalog{templates: slices.Clone(ts)}
	c.sort()
	for i := 1; i < len(c.templates); i++ {
		a, b := c.templates[i-1], c.templates[i]
		if a.Name == b.Name && a.Version == b.Version {
			return nil, fmt.Errorf("template %s version %s is defined twice", a.Name, a.Version)
		}
	}
	return c, nil
}

func (c *Catalog) sort() {
	slices.SortFunc(c.templates, func(a, b Template) int {
		return strings.Compare(a.Name+"\x00"+a.Version, b.Name+"\x00"+b.Version)
	})
}

// Templates lists the templates by name and version.
func (c *Catalog) Templates() []Template { return slices.Clone(c.templates) }

// Find returns the template of a name and version.
func (c *Catalog) Find(name, version string) (Template, bool) {
	for _, t := range c.templates {
		if t.Name == name && t.Version == version {
			return t, true
		}
	}
	return Template{}, false
}

// Lookup returns the template an API path names: by its
// artifactResourceId or as "<name>.<version>".
func (c *Catalog) Lookup(id string) (Template, bool) {
	for _, t := range c.templates {
		if id == TemplateID(t) || id == t.Name+"."+t.Version {
			return t, true
		}
	}
	return Template{}, false
}
