package provisioning

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/nephoran/o2ims/internal/ims"
)

// Parameters checks a request's templateParameters against the template's
// parameter schema and returns them with the template's defaults (and the
// schema's own default values) filled in. A failure is an EINVALID error
// naming the first failing parameter as templateParameters.<path>.
func Parameters(t Template, params map[string]any) (map[string]any, error) {
	sc, err := compileSchema(t.ParameterSchema)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("template %s %s: %w", t.Name, t.Version, err), "the template is unusable")
	}
	// A JSON round trip makes every value the type the validator expects
	// (float64 numbers, map[string]any objects) and copies the input.
	merged, err := normalize(withDefaults(t.Defaults, params))
	if err != nil {
		return nil, ims.Errorf(ims.EINVALID, "templateParameters: not a JSON object")
	}
	if err := sc.VisitJSON(merged, openapi3.VisitAsRequest(), openapi3.DefaultsSet(func() {})); err != nil {
		return nil, parameterError(t, err)
	}
	return merged, nil
}

// withDefaults merges params over defaults: objects key by key, any other
// value replaces the default.
func withDefaults(defaults, params map[string]any) map[string]any {
	out := maps.Clone(defaults)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range params {
		dm, ok1 := out[k].(map[string]any)
		pm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = withDefaults(dm, pm)
			continue
		}
		out[k] = v
	}
	return out
}

func normalize(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// parameterError rewrites a schema validation failure in the API's words.
func parameterError(t Template, err error) error {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		err = me[0]
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return ims.Errorf(ims.EINVALID, "templateParameters: do not satisfy the parameter schema of template %s %s", t.Name, t.Version)
	}
	where := slices.Clone(se.JSONPointer())
	s := se.Schema
	var problem string
	switch se.SchemaField {
	case "required":
		problem = "is required"
	case "properties":
		obj, _ := se.Value.(map[string]any)
		var unknown []string
		for k := range obj {
			if s == nil || s.Properties[k] == nil {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		if len(unknown) > 0 {
			where = append(where, unknown[0])
		}
		problem = "is not a parameter of template " + t.Name + " " + t.Version
		if s != nil && len(s.Properties) > 0 {
			problem += " (known: " + strings.Join(slices.Sorted(maps.Keys(s.Properties)), ", ") + ")"
		}
	case "type", "nullable":
		problem = "must be of type " + typeName(s)
	case "enum":
		problem = "must be one of " + enumText(s)
	case "pattern":
		problem = fmt.Sprintf("must match the pattern %s", s.Pattern)
	case "minLength":
		problem = fmt.Sprintf("must be at least %d characters long", s.MinLength)
	case "maxLength":
		problem = fmt.Sprintf("must be at most %d characters long", deref(s.MaxLength))
	case "minimum", "exclusiveMinimum":
		problem = fmt.Sprintf("must be at least %v", deref(s.Min))
		if s.ExclusiveMin.IsTrue() {
			problem = fmt.Sprintf("must be greater than %v", deref(s.Min))
		}
	case "maximum", "exclusiveMaximum":
		problem = fmt.Sprintf("must be at most %v", deref(s.Max))
		if s.ExclusiveMax.IsTrue() {
			problem = fmt.Sprintf("must be less than %v", deref(s.Max))
		}
	case "minItems":
		problem = fmt.Sprintf("must have at least %d items", s.MinItems)
	case "maxItems":
		problem = fmt.Sprintf("must have at most %d items", deref(s.MaxItems))
	case "uniqueItems":
		problem = "must not repeat items"
	case "minProperties":
		problem = fmt.Sprintf("must have at least %d members", s.MinProps)
	case "maxProperties":
		problem = fmt.Sprintf("must have at most %d members", deref(s.MaxProps))
	case "format":
		problem = "must be in the format " + s.Format
	case "multipleOf":
		problem = fmt.Sprintf("must be a multiple of %v", deref(s.MultipleOf))
	default:
		problem = "does not satisfy the parameter schema (" + se.SchemaField + ")"
	}
	name := "templateParameters"
	if len(where) > 0 {
		name += "." + strings.Join(where, ".")
	}
	return ims.Errorf(ims.EINVALID, "%s: %s", name, problem)
}

func typeName(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return "any"
	}
	return strings.Join(s.Type.Slice(), " or ")
}

func enumText(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	var vs []string
	for _, v := range s.Enum {
		b, _ := json.Marshal(v)
		vs = append(vs, string(b))
	}
	return strings.Join(vs, ", ")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
