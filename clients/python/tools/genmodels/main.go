// Command genmodels writes the dataclass models of the Python client,
// clients/python/nephoran_o2ims/models.py, from the OpenAPI documents of
// the IMS (api/openapi, the source of truth). Run it from the repository
// root after changing a spec:
//
//	go run ./clients/python/tools/genmodels
//
// With -check it writes nothing and exits with status 1 when the file is
// not what the specs produce.
//
// Every object schema of components.schemas with properties becomes a
// class of the same name, and so does every object written inline in a
// property (named by inlineNames, else after its parent and property).
// allOf is flattened. Each field records its JSON name, its type and the
// model it holds, so the client decodes nested objects, and the tests of
// clients/python compare the models with the specs.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/nephoran/o2ims/api/openapi"
)

// specFiles are the documents read, in the order their models are written.
var specFiles = []string{"common.yaml", "inventory.yaml", v2Spec, "monitoring.yaml", "nephoran.yaml", "provisioning.yaml", "artifacts.yaml"}

// v2Spec is the inventory v2 document.
const v2Spec = "inventory_v2.yaml"

// inlineNames names the classes of inline objects, by their location.
var inlineNames = map[string]string{
	"nephoran.yaml#/components/schemas/ProviderRequest/properties/config":                                       "ProviderConfig",
	"nephoran.yaml#/components/schemas/CnfPackageMetadata/properties/vnfdInfo":                                  "VnfdInfo",
	"nephoran.yaml#/components/schemas/CnfPackageMetadata/properties/flavours/items":                            "Flavour",
	"nephoran.yaml#/components/schemas/CnfPackageMetadata/properties/flavours/items/properties/resources":       "FlavourResources",
	"nephoran.yaml#/components/schemas/CnfPackageMetadata/properties/scalingAspects/items":                      "ScalingAspect",
	"nephoran.yaml#/components/schemas/CnfPackage/allOf/1/properties/workloads/items":                           "PackageWorkload",
	"nephoran.yaml#/components/schemas/CnfInstance/properties/instantiatedCnfInfo":                              "InstantiatedCnfInfo",
	"nephoran.yaml#/components/schemas/CnfInstance/properties/instantiatedCnfInfo/properties/scaleStatus/items": "ScaleStatus",
	"nephoran.yaml#/components/schemas/CnfInstance/properties/instantiatedCnfInfo/properties/resources/items":   "CnfResourceRef",
	"nephoran.yaml#/components/schemas/DeploymentStatus/properties/placement":                                   "PlacementStatus",
	"nephoran.yaml#/components/schemas/DeploymentPatch/properties/components/items":                             "ComponentReplicas",
}

// idFields names the identifier attribute of the models where it is not
// <model>Id; LcmOpOcc's is called id already.
var idFields = map[string]string{
	"AlarmSubscriptionInfo": "alarmSubscriptionId",
	"CnfPackage":            "packageId",
	"OCloudInfo":            "oCloudId",
}

// mixins are the hand-written classes of nephoran_o2ims/_mixins.py that
// add behaviour (properties, helpers) to a model.
var mixins = map[string]string{
	"AlarmEventRecord":      "AlarmEventRecordMixin",
	"AlarmSubscriptionInfo": "SubscriptionMixin",
	"CnfInstance":           "CnfInstanceMixin",
	"Deployment":            "DeploymentMixin",
	"DeploymentSpec":        "DeploymentSpecMixin",
	"LcmOpOcc":              "LcmOpOccMixin",
	"ResourcePool":          "ResourcePoolMixin",
	"Subscription":          "SubscriptionMixin",
}

func main() {
	out := flag.String("out", "clients/python/nephoran_o2ims/models.py", "file to write")
	check := flag.Bool("check", false, "write nothing; fail when the file differs from what the specs produce")
	flag.Parse()
	src, err := Generate(openapi.Specs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmodels:", err)
		os.Exit(1)
	}
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil || !bytes.Equal(old, src) {
			fmt.Fprintf(os.Stderr, "genmodels: %s is not what the specs produce: run 'go run ./clients/python/tools/genmodels'\n", *out)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genmodels:", err)
		os.Exit(1)
	}
}

// model is one Python class.
type model struct {
	name     string
	pointer  string // file#/json/pointer of the schema
	doc      string
	fields   []field
	required []string
	idField  string // JSON name of the identifier, or ""
}

// field is one attribute of a model.
type field struct {
	json  string
	py    string
	typ   string // str, int, float, bool, dict, any, or a model name
	many  bool   // a list of typ
	doc   string
	model bool // typ is a model
}

// generator holds the parsed documents and the models found so far.
type generator struct {
	docs   map[string]*yaml.Node
	models []*model
	byPtr  map[string]*model
	byName map[string]string // model name → pointer
}

// Generate returns the Python source of the models of the specs in fsys.
func Generate(fsys fs.FS) ([]byte, error) {
	g := &generator{docs: map[string]*yaml.Node{}, byPtr: map[string]*model{}, byName: map[string]string{}}
	for _, f := range specFiles {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			return nil, fmt.Errorf("%s: not a YAML document", f)
		}
		g.docs[f] = n.Content[0]
	}
	for _, f := range specFiles {
		schemas := get(get(g.docs[f], "components"), "schemas")
		for _, name := range keys(schemas) {
			ptr := f + "#/components/schemas/" + name
			s := get(schemas, name)
			if !g.hasProperties(f, s) {
				continue
			}
			if _, v1 := g.byName[name]; v1 && f == v2Spec {
				// The client reads inventory v1; of v2 it models only
				// the objects v1 lacks (locations and sites).
				continue
			}
			if _, err := g.add(name, ptr, f, s); err != nil {
				return nil, err
			}
		}
	}
	return g.render(), nil
}

// add registers the model of schema s, found at ptr in file, and of the
// inline objects in it.
func (g *generator) add(name, ptr, file string, s *yaml.Node) (*model, error) {
	if m, ok := g.byPtr[ptr]; ok {
		return m, nil
	}
	if other, dup := g.byName[name]; dup {
		return nil, fmt.Errorf("two schemas would be model %s: %s and %s", name, other, ptr)
	}
	m := &model{name: name, pointer: ptr, doc: scalar(get(s, "description"))}
	g.byPtr[ptr], g.byName[name] = m, ptr
	g.models = append(g.models, m)
	props, required, err := g.properties(file, ptr, s)
	if err != nil {
		return nil, err
	}
	m.required = required
	seen := map[string]bool{}
	for _, p := range props {
		f, err := g.field(name, p)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", name, p.name, err)
		}
		if seen[f.py] {
			return nil, fmt.Errorf("%s: two properties are attribute %s", name, f.py)
		}
		seen[f.py] = true
		m.fields = append(m.fields, f)
	}
	idJSON := idFields[name]
	if idJSON == "" {
		idJSON = lowerFirst(name) + "Id"
	}
	for _, f := range m.fields {
		if f.json == idJSON {
			m.idField = f.py
		}
	}
	return m, nil
}

// prop is one property of a schema: its name, its schema and where that
// schema is written.
type prop struct {
	name   string
	schema *yaml.Node
	file   string
	ptr    string
}

// properties returns the properties of s (written at ptr in file), those
// of its allOf members first, and the names it requires.
func (g *generator) properties(file, ptr string, s *yaml.Node) ([]prop, []string, error) {
	var props []prop
	var required []string
	if all := get(s, "allOf"); all != nil {
		for i, member := range all.Content {
			mfile, mptr, ms := file, fmt.Sprintf("%s/allOf/%d", ptr, i), member
			if ref := scalar(get(member, "$ref")); ref != "" {
				var err error
				if mfile, mptr, ms, err = g.resolve(file, ref); err != nil {
					return nil, nil, err
				}
			}
			p, r, err := g.properties(mfile, mptr, ms)
			if err != nil {
				return nil, nil, err
			}
			props, required = append(props, p...), append(required, r...)
		}
	}
	if ps := get(s, "properties"); ps != nil {
		for _, name := range keys(ps) {
			props = slices.DeleteFunc(props, func(p prop) bool { return p.name == name })
			props = append(props, prop{name: name, schema: get(ps, name), file: file, ptr: ptr + "/properties/" + escape(name)})
		}
	}
	if req := get(s, "required"); req != nil {
		for _, r := range req.Content {
			if !slices.Contains(required, r.Value) {
				required = append(required, r.Value)
			}
		}
	}
	return props, required, nil
}

// field returns the field of property p of model owner.
func (g *generator) field(owner string, p prop) (field, error) {
	f := field{json: p.name, py: snake(p.name), doc: scalar(get(p.schema, "description"))}
	if isKeyword(f.py) {
		f.py += "_"
	}
	file, ptr, s := p.file, p.ptr, p.schema
	if ref := scalar(get(s, "$ref")); ref != "" {
		var err error
		if file, ptr, s, err = g.resolve(file, ref); err != nil {
			return f, err
		}
		if f.doc == "" {
			f.doc = scalar(get(s, "description"))
		}
	}
	if scalar(get(s, "type")) == "array" {
		f.many = true
		items := get(s, "items")
		if items == nil {
			f.typ = "any"
			return f, nil
		}
		ptr += "/items"
		s = items
		if ref := scalar(get(s, "$ref")); ref != "" {
			var err error
			if file, ptr, s, err = g.resolve(file, ref); err != nil {
				return f, err
			}
		}
	}
	switch t := scalar(get(s, "type")); {
	case g.hasProperties(file, s):
		name, doc := inlineNames[ptr], ""
		if named(ptr) {
			name = path.Base(ptr)
		} else {
			doc = fmt.Sprintf("The ``%s`` of :class:`%s`.", p.name, owner)
			if f.many {
				doc = fmt.Sprintf("One of the ``%s`` of :class:`%s`.", p.name, owner)
			}
		}
		if name == "" {
			name = owner + upperFirst(p.name)
			if f.many {
				name += "Item"
			}
		}
		m, err := g.add(name, ptr, file, s)
		if err != nil {
			return f, err
		}
		if m.doc == "" {
			m.doc = doc
		}
		f.typ, f.model = m.name, true
	case t == "object":
		f.typ = "dict"
	case t == "string":
		f.typ = "str"
	case t == "integer":
		f.typ = "int"
	case t == "number":
		f.typ = "float"
	case t == "boolean":
		f.typ = "bool"
	case t == "":
		f.typ = "any"
	default:
		return f, fmt.Errorf("unknown type %q", t)
	}
	return f, nil
}

// named reports whether ptr is the location of a schema of
// components.schemas, rather than of an object written inline.
func named(ptr string) bool {
	_, frag, _ := strings.Cut(ptr, "#")
	segs := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	return len(segs) == 3 && segs[0] == "components" && segs[1] == "schemas"
}

// hasProperties reports whether s is an object with properties of its own
// or through allOf.
func (g *generator) hasProperties(file string, s *yaml.Node) bool {
	if get(s, "properties") != nil {
		return true
	}
	if all := get(s, "allOf"); all != nil {
		for _, m := range all.Content {
			mfile, ms := file, m
			if ref := scalar(get(m, "$ref")); ref != "" {
				var err error
				if mfile, _, ms, err = g.resolve(file, ref); err != nil {
					return false
				}
			}
			if g.hasProperties(mfile, ms) {
				return true
			}
		}
	}
	return false
}

// resolve follows the $ref ref written in file and returns the file,
// pointer and node of its target.
func (g *generator) resolve(file, ref string) (string, string, *yaml.Node, error) {
	target, frag, ok := strings.Cut(ref, "#")
	if !ok {
		return "", "", nil, fmt.Errorf("$ref %q has no fragment", ref)
	}
	if target != "" {
		file = path.Clean(path.Join(path.Dir(file), target))
	}
	root, ok := g.docs[file]
	if !ok {
		return "", "", nil, fmt.Errorf("$ref %q: unknown document %s", ref, file)
	}
	n := root
	for _, seg := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
		if n = get(n, seg); n == nil {
			return "", "", nil, fmt.Errorf("$ref %q: no %s", ref, seg)
		}
	}
	return file, file + "#" + frag, n, nil
}

// render writes the Python module.
func (g *generator) render() []byte {
	var b bytes.Buffer
	b.WriteString(`# Code generated by go run ./clients/python/tools/genmodels from api/openapi; DO NOT EDIT.
"""Typed models of the O2 IMS APIs, generated from the OpenAPI documents.

Each class is a keyword-only dataclass named after its schema. Every
attribute is optional: it is None when the server leaves it out, as the
attribute selectors (fields, exclude_fields) do. Attributes the specs do
not name are kept in .extra, and .dict() returns the object with the API's
attribute names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from . import _mixins
from ._model import Model, field_

__all__ = [
`)
	names := make([]string, 0, len(g.models))
	for _, m := range g.models {
		names = append(names, m.name)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "    %q,\n", n)
	}
	b.WriteString("]\n")
	for _, m := range g.models {
		b.WriteString("\n\n@dataclass(kw_only=True, repr=False)\n")
		bases := "Model"
		if mx := mixins[m.name]; mx != "" {
			bases = "_mixins." + mx + ", Model"
		}
		fmt.Fprintf(&b, "class %s(%s):\n", m.name, bases)
		doc := m.doc
		if doc == "" {
			doc = "The " + m.name + " object of the O2 IMS APIs."
		}
		b.WriteString(docstring(doc, "    "))
		b.WriteString("\n")
		fmt.Fprintf(&b, "    __schema__: ClassVar[str] = %q\n", m.pointer)
		if m.idField != "" {
			fmt.Fprintf(&b, "    __id_field__: ClassVar[str | None] = %q\n", m.idField)
		}
		req := make([]string, len(m.required))
		for i, r := range m.required {
			req[i] = fmt.Sprintf("%q", r)
		}
		tuple := strings.Join(req, ", ")
		if len(req) == 1 {
			tuple += ","
		}
		fmt.Fprintf(&b, "    __required__: ClassVar[tuple[str, ...]] = (%s)\n", tuple)
		b.WriteString("\n")
		for i, f := range m.fields {
			if f.doc != "" && i > 0 {
				b.WriteString("\n")
			}
			for _, line := range wrap(f.doc, 88-len("    #: ")) {
				fmt.Fprintf(&b, "    #: %s\n", line)
			}
			args := fmt.Sprintf("%q, %q", f.json, f.typ)
			if f.many {
				args += ", many=True"
			}
			fmt.Fprintf(&b, "    %s: %s = field_(%s)\n", f.py, annotation(f), args)
		}
	}
	return b.Bytes()
}

// annotation returns the Python type of f.
func annotation(f field) string {
	t := map[string]string{"str": "str", "int": "int", "float": "float", "bool": "bool", "dict": "dict[str, Any]", "any": "Any"}[f.typ]
	if f.model {
		t = f.typ
	}
	if f.many {
		t = "list[" + t + "]"
	}
	if t == "Any" {
		return t
	}
	return t + " | None"
}

// docstring renders text as a Python docstring indented by indent.
func docstring(text, indent string) string {
	text = strings.ReplaceAll(strings.TrimSpace(text), `\`, `\\`)
	text = strings.ReplaceAll(text, `"""`, `\"\"\"`)
	lines := wrap(text, 88-len(indent))
	if len(lines) == 1 && len(lines[0])+len(indent)+6 <= 88 {
		return indent + `"""` + lines[0] + `"""` + "\n"
	}
	var b strings.Builder
	b.WriteString(indent + `"""` + "\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + l + "\n")
	}
	b.WriteString(indent + `"""` + "\n")
	return b.String()
}

// wrap fills the paragraphs of text (separated by blank lines) into lines
// of at most width characters, paragraphs separated by an empty line.
func wrap(text string, width int) []string {
	var out []string
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		if i > 0 {
			out = append(out, "")
		}
		line := ""
		for _, w := range words {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
		}
		out = append(out, line)
	}
	return out
}

// get returns the value of key in the mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		var i int
		if _, err := fmt.Sscanf(key, "%d", &i); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// keys returns the keys of the mapping n in document order.
func keys(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

// scalar returns the value of a scalar node, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// escape escapes a JSON pointer segment.
func escape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// snake returns the Python attribute name of a JSON attribute name:
// resourcePoolId → resource_pool_id, alarmDefinitionID →
// alarm_definition_id, oCloudId → o_cloud_id.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) {
			prevLower := i > 0 && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(r[i-1]) && i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || acronymEnd {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// isKeyword reports whether s is a Python keyword or a name the model
// base class uses.
func isKeyword(s string) bool {
	switch s {
	case "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
		"continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
		"if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
		"try", "while", "with", "yield", "extra", "dict", "get", "from_dict", "to_json":
		return true
	}
	return false
}
