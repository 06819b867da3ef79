package kpt

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/o2ims/internal/ims"
)

// defaultSettersImage is the apply-setters image SetSetters adds to a
// pipeline that has none: the one Porch R5's function runner serves, so
// that a Porch rendering the written package runs it too.
const defaultSettersImage = "gcr.io/kpt-fn/apply-setters:v0.2.0"

// SetSetters writes setter values into the configuration of the root
// Kptfile's apply-setters mutators, for the next Render. A setter goes to
// every apply-setters mutator whose configuration already has it (so that
// none of them sets the old value again), otherwise to the first: into its
// configMap, or into the data of the file its configPath names. When the
// root pipeline has no apply-setters mutator, one with an inline configMap
// is put first, so that the values apply before the package's own
// functions, as `kpt fn eval --image apply-setters` before a render would.
// Values are written as strings, quoted where YAML 1.1 would read them as
// another type. Empty values leave the package as it is.
func (p *Package) SetSetters(values map[string]string) (err error) {
	defer ims.RecoverInvalid(&err, "the package")
	if len(values) == 0 {
		return nil
	}
	names := make([]string, 0, len(values))
	for k := range values {
		if k == "" || strings.ContainsAny(k, "{}") {
			return invalid("setter name %q is not valid", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	pl, err := p.pipeline(p.resources, ".")
	if err != nil {
		return err
	}
	// The configuration mapping of each apply-setters mutator.
	var configs []*yaml.Node
	for _, f := range pl.mutators {
		if f.name != "apply-setters" {
			continue
		}
		cfg, err := p.setterConfig(f)
		if err != nil {
			return err
		}
		configs = append(configs, cfg)
	}
	if len(configs) == 0 {
		cfg, err := p.addSettersFunction()
		if err != nil {
			return err
		}
		configs = append(configs, cfg)
	}
	for _, name := range names {
		set := false
		for _, cfg := range configs {
			if field(cfg, name) != nil {
				setString(cfg, name, values[name])
				set = true
			}
		}
		if !set {
			setString(configs[0], name, values[name])
		}
	}
	return nil
}

// setterConfig returns the mapping that holds an apply-setters mutator's
// values: its configMap in the Kptfile, or the data of its config file,
// created when missing.
func (p *Package) setterConfig(f *function) (*yaml.Node, error) {
	if f.configPath != "" {
		res, err := p.configResource(p.resources, ".", f.configPath)
		if err != nil {
			return nil, invalid("%s: configPath: %s", f.where(), ims.MessageOf(err))
		}
		data, err := res.Pipe(kyaml.LookupCreate(kyaml.MappingNode, "data"))
		if err != nil || data == nil || data.YNode().Kind != yaml.MappingNode {
			return nil, invalidCause(err, "%s: the data of %s is not a mapping", f.where(), f.configPath)
		}
		return data.YNode(), nil
	}
	fn := p.functionNode(f)
	cm := field(fn, "configMap")
	if cm == nil || isNull(cm) {
		cm = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		setNode(fn, "configMap", cm)
	}
	return cm, nil
}

// functionNode returns the node of a root pipeline function.
func (p *Package) functionNode(f *function) *yaml.Node {
	k := kptfileOf(p.resources, ".")
	return field(field(k.YNode(), "pipeline"), f.stage).Content[f.index]
}

// addSettersFunction puts an apply-setters mutator with an empty configMap
// first in the root pipeline and returns the configMap.
func (p *Package) addSettersFunction() (*yaml.Node, error) {
	k := kptfileOf(p.resources, ".").YNode()
	pl := field(k, "pipeline")
	if pl == nil || isNull(pl) {
		pl = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		setNode(k, "pipeline", pl)
	}
	mutators := field(pl, "mutators")
	if mutators == nil || isNull(mutators) {
		mutators = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		setNode(pl, "mutators", mutators)
	}
	cm := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	fn := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	setString(fn, "image", defaultSettersImage)
	setNode(fn, "configMap", cm)
	mutators.Content = append([]*yaml.Node{fn}, mutators.Content...)
	return cm, nil
}

// setNode sets a key of a mapping node to a value node.
func setNode(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// setString sets a key of a mapping to a string. An existing scalar is
// changed in place so that its comments stay, and stays quoted if it was.
func setString(m *yaml.Node, key, value string) {
	n := kyaml.NewStringRNode(value).YNode()
	if n.Style == 0 && kyaml.IsYaml1_1NonString(n) {
		n.Style = yaml.DoubleQuotedStyle
	}
	if old := field(m, key); old != nil && old.Kind == yaml.ScalarNode {
		quoted := old.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
		old.Value, old.Tag, old.Style = n.Value, n.Tag, n.Style
		if old.Style == 0 {
			old.Style = quoted
		}
		return
	}
	setNode(m, key, n)
}

// SetConfigMapData sets keys of the package's ConfigMap of that name, such
// as a deployment template's "deployment-config" parameters, for the next
// Render. The ConfigMap must exist, once, in the package or a subpackage:
// creating one would hide a misspelt name, and a created ConfigMap would
// be applied to clusters. Values are written as strings; other keys and
// comments stay.
func (p *Package) SetConfigMapData(name string, data map[string]string) (err error) {
	defer ims.RecoverInvalid(&err, "the package")
	var found []*kyaml.RNode
	for _, r := range p.resources {
		if r.GetApiVersion() == "v1" && r.GetKind() == "ConfigMap" && r.GetName() == name {
			found = append(found, r)
		}
	}
	switch {
	case len(found) == 0:
		return invalid("the package has no ConfigMap named %q", name)
	case len(found) > 1:
		return invalid("the package has more than one ConfigMap named %q (in %s and %s)", name, pathOf(found[0]), pathOf(found[1]))
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return invalid("%q is not a valid ConfigMap key: %s", k, strings.Join(errs, "; "))
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d, err := found[0].Pipe(kyaml.LookupCreate(kyaml.MappingNode, "data"))
	if err != nil || d == nil || d.YNode().Kind != yaml.MappingNode {
		return invalidCause(err, "%s: the data of ConfigMap %q is not a mapping", pathOf(found[0]), name)
	}
	for _, k := range keys {
		setString(d.YNode(), k, data[k])
	}
	return nil
}
