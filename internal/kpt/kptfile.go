package kpt

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/o2ims/internal/ims"
)

// function is one function of a Kptfile pipeline.
type function struct {
	// kptfile is the path of the Kptfile, stage "mutators" or
	// "validators", index the position in that list: they locate the
	// function in error messages.
	kptfile string
	stage   string
	index   int

	image string
	// name is the catalog name of the image, impl its implementation.
	name string
	impl builtin
	// configPath is relative to the Kptfile's directory, already checked
	// to stay inside the package; configMap is the inline configuration.
	configPath string
	configMap  map[string]string
	hasConfig  bool
	selectors  []selector
	exclude    []selector
}

// where locates a function in error messages.
func (f *function) where() string {
	if f.configPath != "" {
		return fmt.Sprintf("%s: pipeline.%s[%d] (%s, configuration %s)", f.kptfile, f.stage, f.index, f.image, f.configPath)
	}
	return fmt.Sprintf("%s: pipeline.%s[%d] (%s)", f.kptfile, f.stage, f.index, f.image)
}

// selector is one entry of a function's selectors or exclude list. Set
// fields must all match; labels and annotations must all be present with
// the given values.
type selector struct {
	apiVersion, kind, name, namespace string
	labels, annotations               map[string]string
}

func (s selector) isEmpty() bool {
	return s.apiVersion == "" && s.kind == "" && s.name == "" && s.namespace == "" &&
		len(s.labels) == 0 && len(s.annotations) == 0
}

func (s selector) matches(rn *kyaml.RNode) bool {
	if (s.apiVersion != "" && s.apiVersion != rn.GetApiVersion()) || (s.kind != "" && s.kind != rn.GetKind()) ||
		(s.name != "" && s.name != rn.GetName()) || (s.namespace != "" && s.namespace != rn.GetNamespace()) {
		return false
	}
	return subset(s.labels, rn.GetLabels()) && subset(s.annotations, rn.GetAnnotations())
}

// subset tells whether every entry of want is in have.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// pipeline is the functions of one package's Kptfile.
type pipeline struct {
	mutators, validators []*function
}

// maxSelectors bounds the selectors and exclude entries of one function:
// each is tried on every resource.
const maxSelectors = 100

// Function fields a Kptfile may set. The ones kpt knows but this package
// does not run (exec) are refused with their own message.
var functionFields = map[string]bool{
	"image": true, "exec": true, "name": true, "tag": true, "configPath": true,
	"configMap": true, "selectors": true, "exclude": true,
}

var selectorFields = map[string]bool{
	"apiVersion": true, "kind": true, "name": true, "namespace": true, "labels": true, "annotations": true,
}

// pipeline reads and checks the pipeline of the package in dir, as found
// among resources.
func (p *Package) pipeline(resources []*kyaml.RNode, dir string) (*pipeline, error) {
	return p.pipelineOf(resources, dir, kptfileOf(resources, dir))
}

// pipelineOf reads and checks the pipeline of the Kptfile k of the package
// in dir.
func (p *Package) pipelineOf(resources []*kyaml.RNode, dir string, k *kyaml.RNode) (*pipeline, error) {
	kptfile := path.Join(dir, KptfileName)
	if k == nil {
		return nil, invalid("%s is missing", kptfile)
	}
	pl := &pipeline{}
	node := field(k.YNode(), "pipeline")
	if node == nil || isNull(node) {
		return pl, nil
	}
	if node.Kind != yaml.MappingNode {
		return nil, invalid("%s: pipeline must be a mapping", kptfile)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		stage, list := node.Content[i].Value, node.Content[i+1]
		if stage != "mutators" && stage != "validators" {
			return nil, invalid("%s: pipeline has an unknown field %q", kptfile, stage)
		}
		if isNull(list) {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			return nil, invalid("%s: pipeline.%s must be a list", kptfile, stage)
		}
		for j, item := range list.Content {
			f, err := p.readFunction(resources, dir, kptfile, stage, j, item)
			if err != nil {
				return nil, err
			}
			if stage == "mutators" {
				pl.mutators = append(pl.mutators, f)
			} else {
				pl.validators = append(pl.validators, f)
			}
		}
	}
	return pl, nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// readFunction reads one pipeline entry.
func (p *Package) readFunction(resources []*kyaml.RNode, dir, kptfile, stage string, index int, n *yaml.Node) (*function, error) {
	f := &function{kptfile: kptfile, stage: stage, index: index}
	at := fmt.Sprintf("%s: pipeline.%s[%d]", kptfile, stage, index)
	if n.Kind != yaml.MappingNode {
		return nil, invalid("%s must be a mapping", at)
	}
	var exec string
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i].Value, n.Content[i+1]
		if !functionFields[key] {
			return nil, invalid("%s has an unknown field %q", at, key)
		}
		var err error
		switch key {
		case "image":
			f.image, err = scalarString(v, at+".image")
		case "exec":
			exec, err = scalarString(v, at+".exec")
		case "name", "tag":
			_, err = scalarString(v, at+"."+key)
		case "configPath":
			f.configPath, err = scalarString(v, at+".configPath")
		case "configMap":
			f.configMap, err = stringMap(v, at+".configMap")
			f.hasConfig = true
		case "selectors":
			f.selectors, err = readSelectors(v, at+".selectors")
		case "exclude":
			f.exclude, err = readSelectors(v, at+".exclude")
		}
		if err != nil {
			return nil, err
		}
	}
	if len(f.selectors)+len(f.exclude) > maxSelectors {
		return nil, invalid("%s has more than %d selectors and exclude entries", at, maxSelectors)
	}
	switch {
	case exec != "":
		return nil, invalid("%s runs the executable %q; exec functions are not supported, only the images %s", at, exec, supportedImages())
	case f.image == "":
		return nil, invalid("%s names no function image", at)
	}
	name, impl, ok := lookupBuiltin(f.image)
	if !ok {
		return nil, invalid("%s: function image %q is not supported; the supported images are %s", at, f.image, supportedImages())
	}
	f.name, f.impl = name, impl
	if f.configPath != "" {
		if f.hasConfig {
			return nil, invalid("%s sets both configMap and configPath; use one", at)
		}
		cp, err := configFile(dir, f.configPath)
		if err != nil {
			return nil, invalid("%s.configPath: %s", at, ims.MessageOf(err))
		}
		if _, err := p.configResource(resources, dir, cp); err != nil {
			return nil, invalid("%s.configPath: %s", at, ims.MessageOf(err))
		}
		f.configPath = cp
		f.hasConfig = true
	}
	return f, nil
}

// configFile checks a configPath and returns it relative to the package
// root. Function configuration must stay inside the package: a path that
// leaves it could make the server read files of its own.
func configFile(dir, configPath string) (string, error) {
	p := strings.TrimSpace(configPath)
	switch {
	case p == "":
		return "", invalid("the path is empty")
	case strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':'):
		return "", invalid("%q is an absolute path; function configuration must stay inside the package", configPath)
	case strings.ContainsAny(p, "\\\x00"):
		return "", invalid("%q contains a backslash or a NUL byte", configPath)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", invalid("%q refers to a parent directory; function configuration must stay inside the package", configPath)
		}
	}
	return path.Join(dir, path.Clean(p)), nil
}

// configResource returns the one resource of the file file, which must be a
// file of the package in dir and not of one of its subpackages.
func (p *Package) configResource(resources []*kyaml.RNode, dir, file string) (*kyaml.RNode, error) {
	var found []*kyaml.RNode
	for _, r := range resources {
		if pathOf(r) == file {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0:
		return nil, invalid("the package has no file %s", file)
	case p.owner(file) != dir:
		return nil, invalid("%s belongs to the subpackage %s, not to the package in %s", file, p.owner(file), dir)
	case len(found) > 1:
		return nil, invalid("%s holds %d documents; function configuration must be exactly one", file, len(found))
	}
	return found[0], nil
}

// owner returns the package directory a file belongs to: the deepest
// directory with a Kptfile that contains it.
func (p *Package) owner(file string) string {
	for d := path.Dir(file); d != "."; d = path.Dir(d) {
		if p.dirSet[d] {
			return d
		}
	}
	return "."
}

// scalarString returns the text of a scalar, "" for null.
func scalarString(n *yaml.Node, at string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", invalid("%s must be a string", at)
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

// stringMap reads a mapping of scalars, as kpt reads a Kptfile's configMap:
// every value as its text, whatever type YAML would give it.
func stringMap(n *yaml.Node, at string) (map[string]string, error) {
	if isNull(n) {
		return map[string]string{}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, invalid("%s must be a mapping of strings", at)
	}
	m := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, invalid("%s has a key that is not a string", at)
		}
		if v.Kind != yaml.ScalarNode {
			return nil, invalid("%s.%s must be a string; write a list setter value as a quoted string such as \"[a, b]\"", at, k.Value)
		}
		if isNull(v) {
			m[k.Value] = ""
		} else {
			m[k.Value] = v.Value
		}
	}
	return m, nil
}

func readSelectors(n *yaml.Node, at string) ([]selector, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, invalid("%s must be a list", at)
	}
	var out []selector
	for i, item := range n.Content {
		where := fmt.Sprintf("%s[%d]", at, i)
		if item.Kind != yaml.MappingNode {
			return nil, invalid("%s must be a mapping", where)
		}
		var s selector
		for j := 0; j+1 < len(item.Content); j += 2 {
			key, v := item.Content[j].Value, item.Content[j+1]
			if !selectorFields[key] {
				return nil, invalid("%s has an unknown field %q", where, key)
			}
			var err error
			switch key {
			case "apiVersion":
				s.apiVersion, err = scalarString(v, where+".apiVersion")
			case "kind":
				s.kind, err = scalarString(v, where+".kind")
			case "name":
				s.name, err = scalarString(v, where+".name")
			case "namespace":
				s.namespace, err = scalarString(v, where+".namespace")
			case "labels":
				s.labels, err = stringMap(v, where+".labels")
			case "annotations":
				s.annotations, err = stringMap(v, where+".annotations")
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// configMapResource builds the ConfigMap kpt passes to a function whose
// configuration is an inline configMap.
func configMapResource(data map[string]string) *kyaml.RNode {
	cm := kyaml.NewMapRNode(nil)
	d := kyaml.NewMapRNode(nil)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := kyaml.NewStringRNode(data[k])
		d.YNode().Content = append(d.YNode().Content, kyaml.NewScalarRNode(k).YNode(), v.YNode())
	}
	md := kyaml.NewMapRNode(&map[string]string{"name": "function-input"})
	cm.YNode().Content = append(cm.YNode().Content,
		kyaml.NewScalarRNode("apiVersion").YNode(), kyaml.NewScalarRNode("v1").YNode(),
		kyaml.NewScalarRNode("kind").YNode(), kyaml.NewScalarRNode("ConfigMap").YNode(),
		kyaml.NewScalarRNode("metadata").YNode(), md.YNode(),
		kyaml.NewScalarRNode("data").YNode(), d.YNode())
	return cm
}
