package cnf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kptPackage is a parsed kpt package: its Kptfile and the YAML documents of
// its resources, kept as node trees because setters live in comments.
type kptPackage struct {
	name, version string
	// setters are the values of the Kptfile's apply-setters function.
	setters map[string]string
	docs    []kptDoc
	files   int
}

// kptDoc is one YAML document of a resource file.
type kptDoc struct {
	source string
	node   *yaml.Node
}

// kptfile is the part of a Kptfile (kpt.dev/v1) this package reads.
type kptfile struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Pipeline struct {
		Mutators []kptFunction `yaml:"mutators"`
	} `yaml:"pipeline"`
}

// kptFunction is one function of a Kptfile pipeline.
type kptFunction struct {
	Image      string               `yaml:"image"`
	ConfigMap  map[string]yaml.Node `yaml:"configMap"`
	ConfigPath string               `yaml:"configPath"`
}

const kptfileName = "Kptfile"

// loadKpt parses a kpt package from a .tgz or .zip archive or from a single
// multi-document YAML that includes the Kptfile as one of its documents.
func loadKpt(content []byte) (*kptPackage, error) {
	var files []file
	if detect(content) == formatYAML {
		files = []file{{Name: "package.yaml", Data: content}}
	} else {
		var err error
		if files, err = unpack(content, newBudget()); err != nil {
			return nil, err
		}
	}
	pkg := &kptPackage{files: len(files), setters: map[string]string{}}

	// The shallowest Kptfile marks the package root; deeper ones belong to
	// subpackages, whose resources are part of the package too.
	root, rootKptfile := ".", ""
	for _, f := range files {
		if path.Base(f.Name) != kptfileName {
			continue
		}
		dir := path.Dir(f.Name)
		switch {
		case rootKptfile == "" || depth(dir) < depth(root):
			root, rootKptfile = dir, f.Name
		case depth(dir) == depth(root):
			return nil, invalid("the package has two top-level Kptfiles (%s and %s)", rootKptfile, f.Name)
		}
	}

	var kptfileDoc *yaml.Node
	var kptfileSource string
	var resources []file
	for _, f := range files {
		if root != "." && !strings.HasPrefix(f.Name, root+"/") {
			continue // outside the package
		}
		switch ext := path.Ext(f.Name); {
		case f.Name == rootKptfile:
			docs, err := decodeYAML(f.Name, f.Data)
			if err != nil {
				return nil, err
			}
			if len(docs) != 1 {
				return nil, invalid("%s must hold exactly one YAML document", f.Name)
			}
			kptfileDoc, kptfileSource = docs[0], f.Name
		case path.Base(f.Name) == kptfileName:
			// A subpackage's Kptfile: not a resource.
		case ext == ".yaml" || ext == ".yml":
			resources = append(resources, f)
		}
	}

	var configPaths []string
	for _, f := range resources {
		docs, err := decodeYAML(f.Name, f.Data)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if kind := scalarAt(d, "kind"); kind == kptfileName && groupOf(scalarAt(d, "apiVersion")) == "kpt.dev" {
				if kptfileDoc != nil {
					return nil, invalid("the package has more than one Kptfile (%s and %s)", kptfileSource, f.Name)
				}
				kptfileDoc, kptfileSource = d, f.Name
				continue
			}
			pkg.docs = append(pkg.docs, kptDoc{source: f.Name, node: d})
		}
	}
	if kptfileDoc == nil {
		return nil, invalid("the package has no Kptfile")
	}
	var k kptfile
	err := kptfileDoc.Decode(&k)
	if err != nil {
		return nil, invalid("%s: %v", kptfileSource, err)
	}
	if k.Kind != kptfileName || groupOf(k.APIVersion) != "kpt.dev" {
		return nil, invalid("%s is not a Kptfile (apiVersion %q, kind %q)", kptfileSource, k.APIVersion, k.Kind)
	}
	if k.Metadata.Name == "" {
		return nil, invalid("%s has no metadata.name", kptfileSource)
	}
	pkg.name = k.Metadata.Name
	pkg.version = k.Metadata.Annotations["app.kubernetes.io/version"]
	if pkg.version == "" {
		pkg.version = k.Metadata.Labels["app.kubernetes.io/version"]
	}
	for _, fn := range k.Pipeline.Mutators {
		if !isApplySetters(fn.Image) {
			continue
		}
		for name, v := range fn.ConfigMap {
			if pkg.setters[name], err = nodeString(&v); err != nil {
				return nil, invalid("%s: setter %q: %s", kptfileSource, name, messageOf(err))
			}
		}
		if fn.ConfigPath != "" {
			p, err := cleanPath(fn.ConfigPath)
			if err != nil {
				return nil, invalid("%s: configPath: %s", kptfileSource, messageOf(err))
			}
			if root != "." {
				p = root + "/" + p
			}
			configPaths = append(configPaths, p)
		}
	}
	// A configPath names a ConfigMap among the package's files; its data
	// are setter values, and it is configuration, not a resource.
	for _, p := range configPaths {
		found := false
		kept := pkg.docs[:0]
		for _, d := range pkg.docs {
			if d.source != p {
				kept = append(kept, d)
				continue
			}
			found = true
			var cm struct {
				Data map[string]yaml.Node `yaml:"data"`
			}
			if err := d.node.Decode(&cm); err != nil {
				return nil, invalid("%s: apply-setters config: %v", p, err)
			}
			for name, v := range cm.Data {
				if pkg.setters[name], err = nodeString(&v); err != nil {
					return nil, invalid("%s: setter %q: %s", p, name, messageOf(err))
				}
			}
		}
		pkg.docs = kept
		if !found {
			return nil, invalid("the Kptfile's apply-setters configPath %s is not in the package", p)
		}
	}
	return pkg, nil
}

// nodeString returns the string form of a setter value written in YAML:
// the text of a scalar, whatever type YAML would give it, or a flow list
// for a sequence of scalars.
func nodeString(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "", nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		items := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return "", invalid("a list setter may hold only scalars")
			}
			items = append(items, c.Value)
		}
		return setterString(items)
	default:
		return "", invalid("a setter value must be a scalar or a list")
	}
}

func depth(dir string) int {
	if dir == "." {
		return 0
	}
	return strings.Count(dir, "/") + 1
}

// isApplySetters tells whether a function image is the apply-setters
// function, whichever registry and version it comes from.
func isApplySetters(image string) bool {
	name := image
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, "@")
	name, _, _ = strings.Cut(name, ":")
	return name == "apply-setters"
}

// decodeYAML splits a YAML stream into its non-empty documents.
func decodeYAML(source string, data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("%s: document %d is not valid YAML: %v", source, i, err)
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 || isNullNode(n.Content[0]) {
			continue
		}
		if n.Content[0].Kind != yaml.MappingNode {
			return nil, invalid("%s: document %d is not a YAML mapping", source, i)
		}
		docs = append(docs, &n)
		if len(docs) > maxObjects {
			return nil, invalid("%s: more than %d documents", source, maxObjects)
		}
	}
	return docs, nil
}

func isNullNode(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalarAt returns the value of a top-level scalar field of a document.
func scalarAt(doc *yaml.Node, key string) string {
	m := doc
	if m.Kind == yaml.DocumentNode && len(m.Content) > 0 {
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// renderKpt applies setters to a copy of the package's documents and
// decodes them into objects. Documents annotated as local configuration are
// not resources and are dropped, as kpt does.
func renderKpt(pkg *kptPackage, p RenderParams) ([]*unstructured.Unstructured, error) {
	setters := make(map[string]string, len(pkg.setters)+len(p.Values)+1)
	for k, v := range pkg.setters {
		setters[k] = v
	}
	if p.ReleaseName != "" {
		setters["name"] = p.ReleaseName
	}
	for k, v := range p.Values {
		s, err := setterString(v)
		if err != nil {
			return nil, invalid("setter %q: %v", k, err)
		}
		setters[k] = s
	}
	var objs []*unstructured.Unstructured
	for _, d := range pkg.docs {
		node := copyNode(d.node)
		if err := applySetters(node, setters); err != nil {
			return nil, invalid("%s: %s", d.source, messageOf(err))
		}
		// The documents are converted directly rather than re-encoded and
		// parsed by the YAML 1.1 decoder of the Helm path, which would read
		// a setter value such as "y" or "on" as a boolean.
		v, err := nodeValue(node, &nodeBudget{n: maxNodes})
		if err != nil {
			return nil, invalid("%s: %s", d.source, messageOf(err))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("%s: a document is not a YAML mapping", d.source)
		}
		found, err := toObjects(d.source, 1, m)
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if o.GetAnnotations()["config.kubernetes.io/local-config"] == "true" {
				continue
			}
			objs = append(objs, o)
		}
		if len(objs) > maxObjects {
			return nil, invalid("the package has more than %d objects", maxObjects)
		}
	}
	return objs, nil
}

// setterString converts a value from RenderParams.Values into the string
// form setters use: scalars as written in YAML, lists as YAML flow
// sequences ("[a, b]"), other values as JSON.
func setterString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return fmt.Sprint(t), nil
	case []any:
		items := make([]string, 0, len(t))
		for _, x := range t {
			s, err := setterString(x)
			if err != nil {
				return "", err
			}
			b, err := json.Marshal(s) // quoted, so commas and brackets survive
			if err != nil {
				return "", err
			}
			items = append(items, string(b))
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case []string:
		items := make([]any, len(t))
		for i, s := range t {
			items[i] = s
		}
		return setterString(items)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("value of type %T has no string form", v)
		}
		return string(b), nil
	}
}

// setterRef matches a setter reference in a kpt-set pattern.
var setterRef = regexp.MustCompile(`\$\{([^{}]+)\}`)

// setterPattern returns the pattern of a "# kpt-set: <pattern>" line
// comment, or "" when the comment is something else.
func setterPattern(comment string) string {
	c := strings.TrimSpace(comment)
	if !strings.HasPrefix(c, "#") {
		return ""
	}
	c = strings.TrimSpace(strings.TrimPrefix(c, "#"))
	rest, ok := strings.CutPrefix(c, "kpt-set:")
	if !ok {
		return ""
	}
	return strings.TrimSpace(rest)
}

// applySetters walks a document and replaces every value marked with a
// kpt-set comment, in the manner of kpt's apply-setters function: the
// pattern's ${setter} references are substituted, and a value whose pattern
// references a setter without a value is left alone. A pattern that is a
// single reference may also mark a sequence, replaced by the setter's list.
func applySetters(n *yaml.Node, setters map[string]string) error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := applySetters(c, setters); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			comment := val.LineComment
			if comment == "" && val.Kind != yaml.ScalarNode {
				// For a block sequence the comment follows the key.
				comment = key.LineComment
			}
			if err := setNode(val, key.Value, setterPattern(comment), setters); err != nil {
				return err
			}
			if err := applySetters(val, setters); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := setNode(c, "", setterPattern(c.LineComment), setters); err != nil {
				return err
			}
			if err := applySetters(c, setters); err != nil {
				return err
			}
		}
	}
	return nil
}

func setNode(n *yaml.Node, field, pattern string, setters map[string]string) error {
	if pattern == "" {
		return nil
	}
	refs := setterRef.FindAllStringSubmatch(pattern, -1)
	if len(refs) == 0 {
		return nil
	}
	for _, r := range refs {
		if _, ok := setters[r[1]]; !ok {
			return nil
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		value := setterRef.ReplaceAllStringFunc(pattern, func(ref string) string {
			return setters[ref[2:len(ref)-1]]
		})
		// A field that was a string stays one ("name: 007"); a number or
		// boolean is re-typed from the new text, as kpt does.
		wasString := n.ShortTag() == "!!str"
		n.Value = value
		if wasString {
			n.Tag = "!!str"
		} else {
			n.Tag = ""
			n.Style = 0
			n.Tag = n.ShortTag()
		}
	case yaml.SequenceNode:
		if len(refs) != 1 || refs[0][0] != pattern {
			return invalid("the kpt-set comment of the list %q must be a single ${setter}", field)
		}
		var items []string
		if err := yaml.Unmarshal([]byte(setters[refs[0][1]]), &items); err != nil {
			return invalid("setter %q must be a list of strings for the list %q", refs[0][1], field)
		}
		content := make([]*yaml.Node, 0, len(items))
		for _, it := range items {
			content = append(content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: it})
		}
		n.Content = content
	}
	return nil
}

// copyNode deep-copies a node tree so that renders do not change the
// parsed package, which Inspect and tests may render more than once.
func copyNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = copyNode(x)
	}
	// Aliases stay shared: copying them would expand alias chains
	// exponentially, and setters never change a node through an alias.
	return &c
}

// maxNodes bounds the values one document may expand to, aliases
// included, so that a document of nested aliases cannot exhaust memory.
const maxNodes = 1 << 20

type nodeBudget struct{ n int }

// nodeValue converts a YAML node into the JSON-compatible values of
// unstructured objects: maps, slices, strings, int64, float64, bools and nil.
func nodeValue(n *yaml.Node, b *nodeBudget) (any, error) {
	b.n--
	if b.n < 0 {
		return nil, invalid("the document expands to more than %d values", maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], b)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, invalid("line %d: unknown alias %q", n.Line, n.Value)
		}
		return nodeValue(n.Alias, b)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, b)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				merged, err := nodeValue(val, b)
				if err != nil {
					return nil, err
				}
				mm, ok := merged.(map[string]any)
				if !ok {
					return nil, invalid("line %d: a merge key needs a mapping", k.Line)
				}
				for mk, mv := range mm {
					if _, set := out[mk]; !set {
						out[mk] = mv
					}
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, invalid("line %d: mapping keys must be scalars", k.Line)
			}
			v, err := nodeValue(val, b)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return nil, invalid("line %d: %v", n.Line, err)
			}
			return v, nil
		case "!!int":
			var v int64
			if err := n.Decode(&v); err == nil {
				return v, nil
			}
			var f float64 // beyond int64, as JSON decoding would do
			if err := n.Decode(&f); err != nil {
				return nil, invalid("line %d: %v", n.Line, err)
			}
			return f, nil
		case "!!float":
			var v float64
			if err := n.Decode(&v); err != nil {
				return nil, invalid("line %d: %v", n.Line, err)
			}
			return v, nil
		default:
			// Strings, and timestamps and binary data as their text, as
			// Kubernetes' own YAML handling keeps them.
			return n.Value, nil
		}
	}
	return nil, invalid("line %d: unsupported YAML node", n.Line)
}
