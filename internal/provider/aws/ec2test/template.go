package ec2test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// template is a CloudFormation template as the server reads it.
type template struct {
	Parameters map[string]templateParameter `json:"Parameters"`
	Conditions map[string]any               `json:"Conditions"`
	Resources  map[string]templateResource  `json:"Resources"`
}

type templateParameter struct {
	Type          string `json:"Type"`
	Default       any    `json:"Default"`
	AllowedValues []any  `json:"AllowedValues"`
	NoEcho        any    `json:"NoEcho"`
}

type templateResource struct {
	Type       string         `json:"Type"`
	Condition  string         `json:"Condition"`
	Properties map[string]any `json:"Properties"`
}

// The resource types stacks may declare: the server creates them as EC2
// objects it serves.
const (
	typeInstance      = "AWS::EC2::Instance"
	typeSecurityGroup = "AWS::EC2::SecurityGroup"
)

func validation(format string, a ...any) *APIError {
	return &APIError{http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, a...)}
}

// parseTemplate reads a JSON or YAML template body; YAML's short forms of
// the intrinsic functions (!Ref, !Sub, !GetAtt, …) become their long
// forms.
func parseTemplate(body string) (*template, *APIError) {
	var doc any
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return nil, validation("Template format error: JSON not well-formed. (%v)", err)
		}
	} else {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(body), &n); err != nil {
			return nil, validation("Template format error: YAML not well-formed. (%v)", err)
		}
		v, err := yamlValue(&n)
		if err != nil {
			return nil, validation("Template format error: %v", err)
		}
		doc = v
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, validation("Template format error: a template is an object")
	}
	b, _ := json.Marshal(doc)
	var t template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, validation("Template format error: %v", err)
	}
	if len(t.Resources) == 0 {
		return nil, validation("Template format error: At least one Resources member must be defined.")
	}
	var unknown []string
	for _, name := range slices.Sorted(maps.Keys(t.Resources)) {
		if typ := t.Resources[name].Type; typ != typeInstance && typ != typeSecurityGroup {
			unknown = append(unknown, typ)
		}
	}
	if len(unknown) > 0 {
		return nil, validation("Template format error: Unrecognized resource types: [%s] (this test server creates only %s and %s)", strings.Join(unknown, ", "), typeInstance, typeSecurityGroup)
	}
	return &t, nil
}

// yamlValue converts a YAML node to JSON-shaped values.
func yamlValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0])
	case yaml.AliasNode:
		return yamlValue(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			item, err := yamlValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = item
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			item, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, item)
		}
		v = l
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, err
		}
	}
	switch tag := n.Tag; {
	case tag == "!Ref":
		return map[string]any{"Ref": v}, nil
	case tag == "!Condition":
		return map[string]any{"Condition": v}, nil
	case tag == "!GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!"):
		return map[string]any{"Fn::" + tag[1:]: v}, nil
	}
	return v, nil
}

// noValue is AWS::NoValue: the property holding it is left out.
type noValue struct{}

// evaluation resolves a stack's intrinsic functions.
type evaluation struct {
	t          *template
	params     map[string]string
	pseudo     map[string]string
	conditions map[string]bool
	// attribute gives a created resource's physical id (attr "") or
	// attribute; false when it does not exist (yet).
	attribute func(logicalID, attr string) (string, bool)
}

func (ev *evaluation) condition(name string) (bool, error) {
	if v, ok := ev.conditions[name]; ok {
		return v, nil
	}
	def, ok := ev.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("Template format error: Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", name)
	}
	v, err := ev.eval(def)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("Template error: condition %s does not evaluate to a boolean", name)
	}
	ev.conditions[name] = b
	return b, nil
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// eval resolves v: maps and lists element by element, the intrinsic
// functions the server knows, and nothing else.
func (ev *evaluation) eval(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := []any{}
		for _, item := range x {
			r, err := ev.eval(item)
			if err != nil {
				return nil, err
			}
			if _, skip := r.(noValue); !skip {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return ev.intrinsic(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, item := range x {
			r, err := ev.eval(item)
			if err != nil {
				return nil, err
			}
			if _, skip := r.(noValue); !skip {
				out[k] = r
			}
		}
		return out, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return v, nil
}

func (ev *evaluation) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := ev.pseudo[name]; ok {
		return v, nil
	}
	if v, ok := ev.params[name]; ok {
		return v, nil
	}
	if v, ok := ev.attribute(name, ""); ok {
		return v, nil
	}
	return nil, fmt.Errorf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", name)
}

func (ev *evaluation) str(v any, fn string) (string, error) {
	r, err := ev.eval(v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("Template error: every %s argument must be a string", fn)
	}
	return s, nil
}

func (ev *evaluation) intrinsic(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return ev.ref(name)
	case "Condition":
		name, _ := arg.(string)
		return ev.condition(name)
	case "Fn::Base64":
		s, err := ev.str(arg, fn)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::Sub":
		text, ok := arg.(string)
		vars := map[string]any{}
		if len(args) == 2 {
			text, ok = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		if !ok {
			return nil, fmt.Errorf("Template error: Fn::Sub takes a string or [string, object]")
		}
		var failed error
		out := subVariable.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var (
				v   any
				err error
			)
			if given, ok := vars[name]; ok {
				v, err = ev.eval(given)
			} else if res, attr, dotted := strings.Cut(name, "."); dotted && ev.t.Resources[res].Type != "" {
				v, err = ev.intrinsic("Fn::GetAtt", []any{res, attr})
			} else {
				v, err = ev.ref(name)
			}
			s, isString := v.(string)
			if err == nil && !isString {
				err = fmt.Errorf("Template error: variable %s in Fn::Sub is not a string", name)
			}
			if err != nil && failed == nil {
				failed = err
			}
			return s
		})
		return out, failed
	case "Fn::GetAtt":
		if len(args) != 2 {
			return nil, fmt.Errorf("Template error: Fn::GetAtt takes [resource, attribute]")
		}
		res, _ := args[0].(string)
		attr, _ := args[1].(string)
		if v, ok := ev.attribute(res, attr); ok {
			return v, nil
		}
		return nil, fmt.Errorf("Template error: resource %s has no attribute %s (or does not exist yet)", res, attr)
	case "Fn::Join":
		if len(args) != 2 {
			return nil, fmt.Errorf("Template error: Fn::Join takes [delimiter, list]")
		}
		delim, _ := args[0].(string)
		items, err := ev.eval(args[1])
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, it := range items.([]any) {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined")
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim), nil
	case "Fn::If":
		if len(args) != 3 {
			return nil, fmt.Errorf("Template error: Fn::If requires a list argument with three elements")
		}
		name, _ := args[0].(string)
		c, err := ev.condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return ev.eval(args[1])
		}
		return ev.eval(args[2])
	case "Fn::Equals":
		if len(args) != 2 {
			return nil, fmt.Errorf("Template error: Fn::Equals requires a list argument with two elements")
		}
		a, err := ev.eval(args[0])
		if err != nil {
			return nil, err
		}
		b, err := ev.eval(args[1])
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(a) == fmt.Sprint(b), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		var bs []bool
		for _, a := range args {
			v, err := ev.eval(a)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("Template error: %s takes conditions", fn)
			}
			bs = append(bs, b)
		}
		switch {
		case fn == "Fn::Not" && len(bs) == 1:
			return !bs[0], nil
		case fn == "Fn::And" && len(bs) > 0:
			return !slices.Contains(bs, false), nil
		case fn == "Fn::Or" && len(bs) > 0:
			return slices.Contains(bs, true), nil
		}
		return nil, fmt.Errorf("Template error: %s takes a list of conditions", fn)
	}
	return nil, fmt.Errorf("Template error: this test server does not implement the intrinsic function %s", fn)
}
