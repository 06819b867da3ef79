package porch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	// kptfileName is the package's Kptfile, at the root of the package.
	kptfileName = "Kptfile"
	// configMapName is the ConfigMap of the blueprint that carries the
	// deployment's parameters (resourcePoolId, provider, region, …) and that
	// the blueprint's apply-replacements function copies from.
	configMapName = "deployment-config"
	// settersFunction is the KRM function whose configMap Request.Setters go to.
	settersFunction = "apply-setters"
)

// setValues writes req's Config into the data of the ConfigMap
// deployment-config and req's Setters into the configMap of the Kptfile's
// apply-setters function, leaving every other byte of the other files as it
// is. It returns the new resources and whether any value differed from what
// the package held; resources is not modified.
func setValues(resources map[string]string, req Request) (map[string]string, bool, error) {
	out := maps.Clone(resources)
	changed := false
	if len(req.Setters) > 0 {
		kf, ok := resources[kptfileName]
		if !ok {
			return nil, false, errors.New("the package has no Kptfile")
		}
		updated, c, err := setSetters(kf, req.Setters)
		if err != nil {
			return nil, false, fmt.Errorf("Kptfile: %w", err)
		}
		if c {
			out[kptfileName] = updated
			changed = true
		}
	}
	if len(req.Config) > 0 {
		file, updated, c, err := setConfigData(resources, req.Config)
		if err != nil {
			return nil, false, err
		}
		if c {
			out[file] = updated
			changed = true
		}
	}
	return out, changed, nil
}

// setSetters sets the keys of the configMap of the first apply-setters
// mutator in the Kptfile's pipeline.
func setSetters(kptfile string, setters map[string]string) (string, bool, error) {
	docs, err := decodeAll(kptfile)
	if err != nil {
		return "", false, err
	}
	if len(docs) != 1 {
		return "", false, fmt.Errorf("want one YAML document, found %d", len(docs))
	}
	mutators := lookup(docs[0], "pipeline", "mutators")
	if mutators == nil || mutators.Kind != yaml.SequenceNode {
		return "", false, fmt.Errorf("no pipeline.mutators, so no %s function to take the setter values", settersFunction)
	}
	for _, fn := range mutators.Content {
		image := lookup(fn, "image")
		if image == nil || functionName(image.Value) != settersFunction {
			continue
		}
		if lookup(fn, "configPath") != nil {
			return "", false, fmt.Errorf("the %s function (%s) reads its configuration from configPath; only an inline configMap is supported", settersFunction, image.Value)
		}
		cm := lookup(fn, "configMap")
		if cm == nil {
			cm = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			fn.Content = append(fn.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "configMap"}, cm)
		}
		if cm.Kind != yaml.MappingNode {
			return "", false, fmt.Errorf("the configMap of the %s function is not a mapping", settersFunction)
		}
		changed := setStrings(cm, setters)
		if !changed {
			return kptfile, false, nil
		}
		s, err := encodeAll(docs)
		return s, true, err
	}
	return "", false, fmt.Errorf("no %s function in pipeline.mutators to take the setter values", settersFunction)
}

// setConfigData sets keys of data in the ConfigMap deployment-config,
// wherever in the package it is, and returns the name of its file.
func setConfigData(resources map[string]string, data map[string]string) (string, string, bool, error) {
	for _, file := range slices.Sorted(maps.Keys(resources)) {
		if !isYAML(file) {
			continue
		}
		docs, err := decodeAll(resources[file])
		if err != nil {
			// Porch accepted the file, so a parse error here is a file
			// that is not KRM (say, a YAML template); it cannot be the
			// ConfigMap.
			continue
		}
		for _, doc := range docs {
			if scalar(doc, "kind") != "ConfigMap" || scalar(doc, "metadata", "name") != configMapName {
				continue
			}
			root := doc
			if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
				root = root.Content[0]
			}
			d := lookup(doc, "data")
			if d == nil {
				d = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "data"}, d)
			}
			if d.Kind != yaml.MappingNode {
				return "", "", false, fmt.Errorf("%s: data of ConfigMap %s is not a mapping", file, configMapName)
			}
			if !setStrings(d, data) {
				return file, resources[file], false, nil
			}
			s, err := encodeAll(docs)
			if err != nil {
				return "", "", false, fmt.Errorf("%s: %w", file, err)
			}
			return file, s, true, nil
		}
	}
	return "", "", false, fmt.Errorf("the package has no ConfigMap %s to take the configuration values", configMapName)
}

// setStrings sets string values in mapping m, keeping the comments of
// existing entries (such as "# kpt-set:" markers), and reports whether any
// value changed. New keys are added in sorted order.
func setStrings(m *yaml.Node, values map[string]string) bool {
	changed := false
	for _, k := range slices.Sorted(maps.Keys(values)) {
		v := values[k]
		found := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != k {
				continue
			}
			found = true
			n := m.Content[i+1]
			// Equal text is equal: kpt reads a Kptfile configMap as strings
			// whatever a value's YAML tag, and renders may drop quotes.
			if n.Kind == yaml.ScalarNode && n.Value == v {
				break
			}
			// A plain scalar such as 3 or true would read back as a number
			// or a boolean; ConfigMap data and setter values are strings,
			// and the encoder quotes a !!str scalar when it has to.
			*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v,
				LineComment: n.LineComment, HeadComment: n.HeadComment, FootComment: n.FootComment}
			changed = true
			break
		}
		if !found {
			m.Content = append(m.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
			changed = true
		}
	}
	return changed
}

// functionName returns the name of a KRM function image without registry
// path, tag or digest: gcr.io/kpt-fn/apply-setters:v0.2.0 → apply-setters.
func functionName(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	name := path.Base(image)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return name
}

func isYAML(file string) bool {
	return strings.HasSuffix(file, ".yaml") || strings.HasSuffix(file, ".yml")
}

func decodeAll(s string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(s))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func encodeAll(docs []*yaml.Node) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return "", err
		}
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// lookup follows mapping keys from n (a document or a mapping) and returns
// the node found, or nil.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// scalar returns the value of the scalar at keys, or "".
func scalar(n *yaml.Node, keys ...string) string {
	if v := lookup(n, keys...); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}
