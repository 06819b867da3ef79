package query

import (
	"maps"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// selMode is the kind of attribute selection requested.
type selMode int

const (
	selAll     selMode = iota // all_fields, and the zero Selection
	selDefault                // exclude_default, possibly with fields put back
	selFields                 // fields alone
	selExclude                // exclude_fields
)

// maxSelectorEntries bounds the entries of one fields or exclude_fields list.
const maxSelectorEntries = 256

// Selection is the parsed attribute selector of a collection GET (SOL013
// clause 5.3). The zero Selection keeps every attribute.
type Selection struct {
	mode    selMode
	fields  *node           // paths listed in fields (selFields, selDefault)
	exclude *node           // paths listed in exclude_fields (selExclude)
	attrs   map[string]Attr // copied, so later changes to the Schema do not leak in
}

// node is a trie of attribute paths; all marks a path that is listed as a
// whole, which makes anything listed below it redundant.
type node struct {
	all  bool
	kids map[string]*node
}

// insert adds path below n.
func (n *node) insert(path []string) {
	for _, seg := range path {
		if n.all {
			return
		}
		if n.kids == nil {
			n.kids = map[string]*node{}
		}
		k := n.kids[seg]
		if k == nil {
			k = &node{}
			n.kids[seg] = k
		}
		n = k
	}
	n.all = true
	n.kids = nil
}

// kid returns the child of n for key, or nil. It is nil-safe so that an
// absent list behaves like an empty one.
func (n *node) kid(key string) *node {
	if n == nil {
		return nil
	}
	return n.kids[key]
}

// ParseSelection parses the attribute selector parameters of SOL013 clause
// 5.3 against schema s. fields and excludeFields are the parameter values,
// "" when absent (an empty list selects nothing, so the two are treated
// alike); allFields and excludeDefault tell whether all_fields and
// exclude_default appeared in the query, since they take no value.
//
// Without any selector the response is as for exclude_default. all_fields
// keeps everything; exclude_default drops the attributes marked
// ExcludedByDefault; fields keeps the attributes that are not Complex plus
// the listed ones; exclude_fields drops the listed ones. fields may be
// combined with exclude_default, which then puts the listed attributes (or
// parts of them) back into the default response. Any other combination is
// refused. List entries are attribute paths joined by "/"; only Object
// attributes have sub-paths, and those need not exist in any document.
func ParseSelection(s *Schema, fields, excludeFields string, allFields, excludeDefault bool) (Selection, error) {
	if s == nil {
		return Selection{}, ims.Errorf(ims.EINTERNAL, "query: ParseSelection called without a schema")
	}
	if allFields {
		var with []string
		if fields != "" {
			with = append(with, "fields")
		}
		if excludeFields != "" {
			with = append(with, "exclude_fields")
		}
		if excludeDefault {
			with = append(with, "exclude_default")
		}
		if len(with) > 0 {
			return Selection{}, ims.Errorf(ims.EINVALID, "all_fields cannot be combined with %s", strings.Join(with, " or "))
		}
	}
	if fields != "" && excludeFields != "" {
		return Selection{}, ims.Errorf(ims.EINVALID, "fields and exclude_fields cannot be combined")
	}
	if excludeFields != "" && excludeDefault {
		return Selection{}, ims.Errorf(ims.EINVALID, "exclude_fields and exclude_default cannot be combined")
	}

	sel := Selection{attrs: make(map[string]Attr, len(s.Attrs))}
	for _, a := range s.Attrs {
		if _, dup := sel.attrs[a.Name]; !dup {
			sel.attrs[a.Name] = a
		}
	}
	var err error
	switch {
	case allFields:
		sel.mode = selAll
	case fields != "":
		sel.mode = selFields
		if excludeDefault {
			sel.mode = selDefault
		}
		sel.fields, err = parseSelectorList(s, "fields", fields)
	case excludeFields != "":
		sel.mode = selExclude
		sel.exclude, err = parseSelectorList(s, "exclude_fields", excludeFields)
	default:
		sel.mode = selDefault
	}
	if err != nil {
		return Selection{}, err
	}
	return sel, nil
}

// parseSelectorList parses the comma-separated paths of parameter param.
func parseSelectorList(s *Schema, param, list string) (*node, error) {
	entries := strings.Split(list, ",")
	if len(entries) > maxSelectorEntries {
		return nil, ims.Errorf(ims.EINVALID, "%s: too many entries (at most %d)", param, maxSelectorEntries)
	}
	root := &node{}
	var unknown []string
	for _, e := range entries {
		if e == "" {
			return nil, ims.Errorf(ims.EINVALID, "%s: empty entry in %s", param, snippet(list))
		}
		path := strings.Split(e, "/")
		if len(path) > maxPath {
			return nil, ims.Errorf(ims.EINVALID, "%s: path %s has more than %d segments", param, snippet(e), maxPath)
		}
		for _, seg := range path {
			if seg == "" {
				return nil, ims.Errorf(ims.EINVALID, "%s: empty segment in path %s", param, snippet(e))
			}
		}
		a := s.attr(path[0])
		if a == nil {
			unknown = append(unknown, snippet(path[0]))
			continue
		}
		if len(path) > 1 && a.Type != Object {
			return nil, ims.Errorf(ims.EINVALID, "%s: attribute %q has no sub-attributes, so %s is not a valid path", param, a.Name, snippet(e))
		}
		root.insert(path)
	}
	switch len(unknown) {
	case 0:
		return root, nil
	case 1:
		return nil, ims.Errorf(ims.EINVALID, "%s: unknown attribute %s of the %s", param, unknown[0], s.Object)
	}
	return nil, ims.Errorf(ims.EINVALID, "%s: unknown attributes %s of the %s", param, strings.Join(unknown, ", "), s.Object)
}

// Apply returns the projection of doc, a decoded JSON document, according
// to the selection. doc is not modified; the result is a new map but shares
// the values it keeps unchanged with doc. Paths that are absent from doc
// are absent from the result, except Always attributes, which are kept
// (empty) whenever the selection keeps them.
func (sel Selection) Apply(doc map[string]any) map[string]any {
	if doc == nil {
		return nil
	}
	var filled map[string]any
	for name, a := range sel.attrs {
		if _, ok := doc[name]; ok {
			continue
		}
		if v, ok := a.empty(); ok {
			if filled == nil {
				filled = make(map[string]any, len(doc)+2)
				maps.Copy(filled, doc)
			}
			filled[name] = v
		}
	}
	if filled != nil {
		doc = filled
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		switch sel.mode {
		case selAll:
			out[k] = v
		case selDefault:
			if a, ok := sel.attrs[k]; !ok || !a.ExcludedByDefault {
				out[k] = v
			} else if n := sel.fields.kid(k); n != nil {
				if pv, ok := project(v, n); ok {
					out[k] = pv
				}
			}
		case selFields:
			if n := sel.fields.kid(k); n != nil {
				if pv, ok := project(v, n); ok {
					out[k] = pv
				}
			} else if !sel.complex(k, v) {
				out[k] = v
			}
		case selExclude:
			n := sel.exclude.kid(k)
			switch {
			case n == nil:
				out[k] = v
			case !n.all:
				out[k] = prune(v, n)
			}
		}
	}
	return out
}

// complex reports whether the member k with value v is a complex attribute.
// Members the schema does not know are judged by their value, which is the
// SOL013 definition: structures and arrays are complex.
func (sel Selection) complex(k string, v any) bool {
	if a, ok := sel.attrs[k]; ok {
		return a.Complex
	}
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// project returns the parts of v named by n. Inside arrays it projects
// each object element. ok is false when n selects into a value that has no
// members, so the caller leaves the value out.
func project(v any, n *node) (any, bool) {
	if n.all {
		return v, true
	}
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(n.kids))
		for key, kn := range n.kids {
			if cv, ok := v[key]; ok {
				if pv, ok := project(cv, kn); ok {
					m[key] = pv
				}
			}
		}
		return m, true
	case []any:
		arr := make([]any, 0, len(v))
		for _, e := range v {
			if pe, ok := project(e, n); ok {
				arr = append(arr, pe)
			}
		}
		return arr, true
	}
	return nil, false
}

// prune returns a copy of v without the parts named by n (which is not a
// whole-value node). Inside arrays it prunes each object element; values
// without members have nothing to remove.
func prune(v any, n *node) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for key, cv := range v {
			kn := n.kids[key]
			switch {
			case kn == nil:
				m[key] = cv
			case !kn.all:
				m[key] = prune(cv, kn)
			}
		}
		return m
	case []any:
		arr := make([]any, len(v))
		for i, e := range v {
			arr[i] = prune(e, n)
		}
		return arr
	}
	return v
}
