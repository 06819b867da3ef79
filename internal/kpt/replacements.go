package kpt

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/filters/replacement"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyutils "sigs.k8s.io/kustomize/kyaml/utils"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The configuration object of apply-replacements.
const (
	replacementsAPIVersion = "fn.kpt.dev/v1alpha1"
	replacementsKind       = "ApplyReplacements"
)

// Fields of kustomize's replacement types, by position, so that a mistake
// such as the integration guide's source.value is refused with its name
// instead of being ignored.
var (
	replacementFields = map[string]bool{"source": true, "targets": true, "sourceValue": true}
	sourceFields      = map[string]bool{"group": true, "version": true, "kind": true, "name": true, "namespace": true, "fieldPath": true, "options": true}
	targetFields      = map[string]bool{"select": true, "reject": true, "fieldPaths": true, "options": true}
	selectFields      = map[string]bool{"group": true, "version": true, "kind": true, "name": true, "namespace": true, "labelSelector": true, "annotationSelector": true}
	optionFields      = map[string]bool{"delimiter": true, "index": true, "encoding": true, "create": true}
)

// applyReplacements runs kustomize's replacement filter, one replacement at
// a time so that errors can name it.
func applyReplacements(cfg *kyaml.RNode, nodes []*kyaml.RNode) ([]*kyaml.RNode, error) {
	if cfg == nil {
		return nil, invalid("apply-replacements needs an %s object (%s) as configuration, given by configPath", replacementsKind, replacementsAPIVersion)
	}
	if cfg.GetKind() != replacementsKind || cfg.GetApiVersion() != replacementsAPIVersion {
		return nil, invalid("the configuration is a %s of apiVersion %q; apply-replacements needs an %s of apiVersion %s",
			cfg.GetKind(), cfg.GetApiVersion(), replacementsKind, replacementsAPIVersion)
	}
	reps, err := decodeReplacements(cfg)
	if err != nil {
		return nil, err
	}
	work := 0
	for _, r := range reps {
		work++
		for _, t := range r.Targets {
			work += max(1, len(t.FieldPaths))
		}
	}
	if work*len(nodes) > maxWork {
		return nil, invalid("%d replacement targets over %d resources are more than this server renders", work, len(nodes))
	}
	for i, r := range reps {
		if err := checkReplacementGrowth(nodes, i, &r); err != nil {
			return nil, err
		}
		f := replacement.Filter{Replacements: []types.Replacement{r}}
		if _, err := f.Filter(nodes); err != nil {
			return nil, replacementError(i, &reps[i], err)
		}
	}
	return nodes, nil
}

// decodeReplacements reads the replacements of the configuration, refusing
// unknown fields, and checks what the filter would only find out late.
func decodeReplacements(cfg *kyaml.RNode) ([]types.Replacement, error) {
	budget := MaxNodes
	v, err := nodeValue(cfg.YNode(), &budget)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	raw := m["replacements"]
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, invalid("replacements must be a list")
	}
	for i, item := range list {
		at := fmt.Sprintf("replacements[%d]", i)
		if err := checkFields(item, at, replacementFields); err != nil {
			return nil, err
		}
		r, _ := item.(map[string]any)
		if err := checkFields(r["source"], at+".source", sourceFields); err != nil {
			return nil, err
		}
		if src, ok := r["source"].(map[string]any); ok {
			if err := checkFields(src["options"], at+".source.options", optionFields); err != nil {
				return nil, err
			}
		}
		targets, ok := r["targets"].([]any)
		if !ok && r["targets"] != nil {
			return nil, invalid("%s.targets must be a list", at)
		}
		for j, t := range targets {
			tat := fmt.Sprintf("%s.targets[%d]", at, j)
			if err := checkFields(t, tat, targetFields); err != nil {
				return nil, err
			}
			tm, _ := t.(map[string]any)
			if err := checkFields(tm["select"], tat+".select", selectFields); err != nil {
				return nil, err
			}
			if err := checkFields(tm["options"], tat+".options", optionFields); err != nil {
				return nil, err
			}
			rejects, ok := tm["reject"].([]any)
			if !ok && tm["reject"] != nil {
				return nil, invalid("%s.reject must be a list", tat)
			}
			for k, rj := range rejects {
				if err := checkFields(rj, fmt.Sprintf("%s.reject[%d]", tat, k), selectFields); err != nil {
					return nil, err
				}
			}
		}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, invalidCause(err, "the replacements could not be read")
	}
	var reps []types.Replacement
	if err := json.Unmarshal(b, &reps); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, invalidCause(err, "replacements: %s must not be a %s", strings.TrimPrefix(te.Field, "."), te.Value)
		}
		return nil, invalidCause(err, "the replacements could not be read")
	}
	for i, r := range reps {
		at := fmt.Sprintf("replacements[%d]", i)
		switch {
		case r.Source == nil && r.SourceValue == nil:
			return nil, invalid("%s needs a source or a sourceValue", at)
		case r.Source != nil && r.SourceValue != nil:
			return nil, invalid("%s has both a source and a sourceValue; use one", at)
		case len(r.Targets) == 0:
			return nil, invalid("%s has no targets", at)
		}
		for j, t := range r.Targets {
			if t == nil || t.Select == nil {
				return nil, invalid("%s.targets[%d] needs a select", at, j)
			}
			if _, err := types.NewTargetSelectorRegex(t); err != nil {
				return nil, invalidCause(err, "%s.targets[%d]: a select or reject field is not a valid regular expression", at, j)
			}
			for _, sel := range append([]*types.Selector{t.Select}, t.Reject...) {
				if sel == nil {
					continue
				}
				for _, expr := range []string{sel.LabelSelector, sel.AnnotationSelector} {
					if _, err := labels.Parse(expr); err != nil {
						return nil, invalidCause(err, "%s.targets[%d]: %q is not a valid label or annotation selector", at, j, expr)
					}
				}
			}
		}
	}
	return reps, nil
}

// checkFields refuses fields of a mapping that allowed does not name.
func checkFields(v any, at string, allowed map[string]bool) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid("%s must be a mapping", at)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed[k] {
			return invalid("%s has an unknown field %q", at, k)
		}
	}
	return nil
}

// checkReplacementGrowth bounds a replacement whose value is not a scalar:
// the filter copies it into every target field, so a large value and many
// targets could multiply the package. The bound is conservative: every node
// of a selected target counts as a possible target field.
func checkReplacementGrowth(nodes []*kyaml.RNode, i int, r *types.Replacement) error {
	if r.Source == nil {
		return nil
	}
	fp := r.Source.FieldPath
	if fp == "" {
		fp = types.DefaultReplacementFieldPath
	}
	size := 0
	for _, n := range nodes {
		if !resid.FromRNode(n).IsSelectedBy(r.Source.ResId) {
			continue
		}
		v, err := n.Pipe(kyaml.Lookup(kyutils.SmarterPathSplitter(fp, ".")...))
		if err != nil || v == nil {
			continue
		}
		budget := maxRenderNodes
		_ = countNodes(v.YNode(), &budget)
		size = max(size, maxRenderNodes-budget)
	}
	if size <= 1 {
		return nil
	}
	fields := 0
	for _, t := range r.Targets {
		tsr, err := types.NewTargetSelectorRegex(t)
		if err != nil {
			return nil // reported by the filter
		}
		for _, n := range nodes {
			if tsr.Selects(resid.FromRNode(n)) {
				budget := maxRenderNodes
				_ = countNodes(n.YNode(), &budget)
				fields += maxRenderNodes - budget + len(t.FieldPaths)
			}
		}
	}
	if size*fields > maxRenderNodes {
		return invalid("replacements[%d] would copy a value of %d YAML nodes into up to %d fields; the limit is %d nodes in all", i, size, fields, maxRenderNodes)
	}
	return nil
}

// replacementError restates an error of kustomize's replacement filter.
func replacementError(i int, r *types.Replacement, err error) error {
	msg := err.Error()
	at := fmt.Sprintf("replacements[%d]", i)
	switch {
	case strings.Contains(msg, "nothing selected by"):
		return invalidCause(err, "%s: the source (%s) selects no resource", at, describeSelector(r.Source.ResId))
	case strings.Contains(msg, "multiple matches for selector"):
		return invalidCause(err, "%s: the source (%s) selects more than one resource; name it more precisely", at, describeSelector(r.Source.ResId))
	case strings.Contains(msg, "is missing for replacement source"):
		return invalidCause(err, "%s: the source (%s) has no field %s", at, describeSelector(r.Source.ResId), r.Source.FieldPath)
	case strings.Contains(msg, "unable to find or create field"):
		return invalidCause(err, "%s: field %s cannot be created in a target resource", at, quoted(msg))
	case strings.Contains(msg, "unable to find field"):
		return invalidCause(err, "%s: a target resource has no field %s; set options.create: true to add it", at, quoted(msg))
	case strings.Contains(msg, "delimiter option can only be used with scalar nodes"):
		return invalidCause(err, "%s: options.delimiter needs fields that hold a single value", at)
	case strings.Contains(msg, "is out of bounds"):
		return invalidCause(err, "%s: the source's options.index is out of range for its value", at)
	}
	return invalidCause(err, "%s could not be applied", at)
}

// quoted returns the first double-quoted part of a message, or "".
func quoted(msg string) string {
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		if j := strings.IndexByte(msg[i+1:], '"'); j >= 0 {
			return msg[i : i+j+2]
		}
	}
	return ""
}

// describeSelector renders a resource selector in the words of a package.
func describeSelector(id resid.ResId) string {
	var parts []string
	for _, p := range []struct{ k, v string }{
		{"group", id.Group}, {"version", id.Version}, {"kind", id.Kind}, {"name", id.Name}, {"namespace", id.Namespace},
	} {
		if p.v != "" {
			parts = append(parts, p.k+" "+p.v)
		}
	}
	if len(parts) == 0 {
		return "any resource"
	}
	return strings.Join(parts, ", ")
}
