package kpt

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/kptdev/krm-functions-catalog/functions/go/apply-setters/applysetters"
	"go.yaml.in/yaml/v3"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// builtin is the in-process implementation of a function: it changes
// nodes in place or returns new ones. cfg is nil when the Kptfile gives no
// configuration.
type builtin func(cfg *kyaml.RNode, nodes []*kyaml.RNode) ([]*kyaml.RNode, error)

var builtins = map[string]builtin{
	"apply-replacements": applyReplacements,
	"apply-setters":      applySetters,
	"set-labels":         setLabels,
	"set-namespace":      setNamespace,
}

// imagePrefixes are the registries whose catalog functions the builtins
// stand for; "" is a bare name.
var imagePrefixes = []string{"", "gcr.io/kpt-fn/", "ghcr.io/kptdev/krm-functions-catalog/"}

// lookupBuiltin returns the catalog name and implementation of a function
// image: one of the catalog functions under a known prefix, with any tag or
// digest.
func lookupBuiltin(image string) (string, builtin, bool) {
	ref, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	for _, prefix := range imagePrefixes {
		if name, ok := strings.CutPrefix(ref, prefix); ok && !strings.Contains(name, "/") {
			if b, ok := builtins[name]; ok {
				return name, b, true
			}
		}
	}
	return "", nil, false
}

// supportedImages describes the accepted images for error messages.
func supportedImages() string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ") + " (bare or under gcr.io/kpt-fn/ or ghcr.io/kptdev/krm-functions-catalog/, any tag)"
}

// Bounds on what one function may do, checked before it runs: maxWork
// bounds (configuration entries × resources or fields) steps, maxGrowth
// the bytes setters may add.
const (
	maxWork   = 1 << 27
	maxGrowth = 4 * MaxSize
)

// describe names a resource in error messages.
func describe(rn *kyaml.RNode) string {
	return fmt.Sprintf("%s (%s %s)", pathOf(rn), rn.GetKind(), rn.GetName())
}

// configData returns the data of a ConfigMap-like configuration, every
// value as its text. A non-scalar value is refused rather than read as "",
// which is what the catalog functions would do.
func configData(cfg *kyaml.RNode) (map[string]string, error) {
	data := field(cfg.YNode(), "data")
	if data == nil || isNull(data) {
		return map[string]string{}, nil
	}
	return stringMap(data, "the configuration's data")
}

// applySetters runs the catalog's apply-setters on every resource. Setters
// are applied in name order, so that the result does not depend on map
// order when a value contains another setter's reference.
func applySetters(cfg *kyaml.RNode, nodes []*kyaml.RNode) ([]*kyaml.RNode, error) {
	if cfg == nil {
		return nodes, nil
	}
	data, err := configData(cfg)
	if err != nil || len(data) == 0 {
		return nodes, err
	}
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	sort.Strings(names)
	setters := make([]applysetters.Setter, 0, len(names))
	for _, k := range names {
		setters = append(setters, applysetters.Setter{Name: k, Value: data[k]})
	}
	if err := checkSetterWork(nodes, data); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		as := &applysetters.ApplySetters{Setters: setters}
		if _, err := as.Filter([]*kyaml.RNode{n}); err != nil {
			return nil, setterError(n, err)
		}
		flowEmptyLists(n.YNode())
	}
	return nodes, nil
}

// flowEmptyLists writes empty lists as "[]" after the key's comment is
// moved onto them. The library gives a list set from the value "[]" block
// style, which the YAML encoder writes as "key: # comment" and "[]" on the
// next line at column 0: YAML that no longer parses.
func flowEmptyLists(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 && v.Style&yaml.FlowStyle == 0 {
				v.Style = yaml.FlowStyle
				if v.LineComment == "" {
					v.LineComment, k.LineComment = k.LineComment, ""
				}
			}
		}
	}
	for _, c := range n.Content {
		flowEmptyLists(c)
	}
}

// setterRef matches a setter reference in a kpt-set pattern.
var setterRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// checkSetterWork bounds apply-setters before it runs: the library tries
// every setter on every tagged field, and a long value used by many fields
// could grow the package far beyond its size.
func checkSetterWork(nodes []*kyaml.RNode, data map[string]string) error {
	tagged, growth := 0, 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if pattern, ok := strings.CutPrefix(n.LineComment, applysetters.SetterCommentIdentifier); ok {
			tagged++
			for _, ref := range setterRef.FindAllStringSubmatch(pattern, -1) {
				growth += len(data[ref[1]])
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n.YNode())
	}
	if tagged*len(data) > maxWork {
		return invalid("%d setters for %d kpt-set fields are more than this server renders", len(data), tagged)
	}
	if growth > maxGrowth {
		return invalid("the setter values would add %d bytes to the package; the limit is %d", growth, maxGrowth)
	}
	return nil
}

// setterError restates an error of the apply-setters library.
func setterError(n *kyaml.RNode, err error) error {
	msg := err.Error()
	where := describe(n)
	switch {
	case strings.Contains(msg, "values for setters"):
		names := msg
		if i, j := strings.IndexByte(msg, '['), strings.LastIndexByte(msg, ']'); i >= 0 && j > i {
			names = msg[i+1 : j]
		}
		return invalidCause(err, "%s: a kpt-set comment needs values for the setters %s, which are neither given nor readable from the field's current value", where, names)
	case strings.Contains(msg, "invalid setter pattern for array node"):
		_, pattern, _ := strings.Cut(msg, "array node: ")
		return invalidCause(err, "%s: the kpt-set comment of a list must be a single setter such as ${name}, not %s", where, pattern)
	case strings.Contains(msg, "input to array setter must be an array of values"):
		_, found, _ := strings.Cut(msg, "but found ")
		return invalidCause(err, "%s: a list field needs a setter value that is a YAML list such as [a, b], not %s", where, found)
	}
	return invalidCause(err, "%s: the setters could not be applied", where)
}
