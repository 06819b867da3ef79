package kpt

import (
	"go.yaml.in/yaml/v3"
)

// nodeValue converts a YAML node into the JSON-compatible values of
// Kubernetes' unstructured objects: maps, slices, strings, int64, float64,
// bools and nil. Values are typed by YAML 1.2, the YAML of kyaml and kpt's
// functions, and not by the YAML 1.1 of Kubernetes' own YAML decoder, which
// would read a setter value such as "y" or "on" as a boolean. Timestamps
// and binary values stay text, as Kubernetes keeps them. budget bounds the
// values produced, aliases counted at each use.
func nodeValue(n *yaml.Node, budget *int) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, invalid("a document expands to more than %d values", maxRenderNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], budget)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, invalid("line %d: unknown alias %q", n.Line, n.Value)
		}
		return nodeValue(n.Alias, budget)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, budget)
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
				merged, err := nodeValue(val, budget)
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
			v, err := nodeValue(val, budget)
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
				return nil, invalidCause(err, "line %d: %q is not a boolean", n.Line, n.Value)
			}
			return v, nil
		case "!!int":
			var v int64
			if err := n.Decode(&v); err == nil {
				return v, nil
			}
			var f float64 // beyond int64, as JSON decoding would do
			if err := n.Decode(&f); err != nil {
				return nil, invalidCause(err, "line %d: %q is not a number", n.Line, n.Value)
			}
			return f, nil
		case "!!float":
			var v float64
			if err := n.Decode(&v); err != nil {
				return nil, invalidCause(err, "line %d: %q is not a number", n.Line, n.Value)
			}
			return v, nil
		default:
			return n.Value, nil
		}
	}
	return nil, invalid("line %d: unsupported YAML node", n.Line)
}
