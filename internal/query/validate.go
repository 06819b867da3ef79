package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nephoran/o2ims/internal/ims"
)

// Validate checks f against the attributes of s: every path must name an
// attribute (and go deeper only into Object attributes), every operator must
// get the number of values it takes, and every value must parse as the
// attribute's type (a finite number, true or false, or an RFC 3339
// date-time). Ordering operators do not apply to booleans, and cont/ncont
// apply to strings only. Filtering on a whole Object attribute is refused
// because an object never equals a filter value; a key inside it must be
// named. Each error names the offending term and what is wrong with it.
func (f Filter) Validate(s *Schema) error {
	if s == nil {
		return ims.Errorf(ims.EINTERNAL, "query: Validate called without a schema")
	}
	if len(f.Terms) > maxTerms {
		return ims.Errorf(ims.EINVALID, "filter: too many terms (at most %d)", maxTerms)
	}
	nvalues := 0
	for _, t := range f.Terms {
		nvalues += len(t.Values)
		if nvalues > maxValues {
			return ims.Errorf(ims.EINVALID, "filter: too many values (at most %d in all terms)", maxValues)
		}
		if err := t.validate(s); err != nil {
			return err
		}
	}
	return nil
}

// validate checks one term; see Filter.Validate.
func (t Term) validate(s *Schema) error {
	if !t.Op.valid() {
		return termErr(t, "unknown operator %q", t.Op)
	}
	a, err := t.attr(s)
	if err != nil {
		return err
	}
	if a.Derived {
		return termErr(t, "attribute %q is derived from other objects and cannot be filtered on", a.Name)
	}
	if t.Op.multi() {
		if len(t.Values) == 0 {
			return termErr(t, "operator %q takes at least one value", t.Op)
		}
	} else if len(t.Values) != 1 {
		return termErr(t, "operator %q takes exactly one value, got %d", t.Op, len(t.Values))
	}
	pos, _ := t.Op.negated()
	if pos == Cont && a.Type != String && a.Type != Object {
		return termErr(t, "operator %q applies to strings only; attribute %q is a %s", t.Op, a.Name, a.Type)
	}
	if a.Type == Bool && pos.ordering() {
		return termErr(t, "operator %q does not apply to booleans (attribute %q)", t.Op, a.Name)
	}
	for _, v := range t.Values {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return termErr(t, "value %q is not valid text", v)
		}
		switch a.Type {
		case Number:
			if _, ok := parseNumber(v); !ok {
				return termErr(t, "value %q is not a number (attribute %q)", v, a.Name)
			}
		case Bool:
			if v != "true" && v != "false" {
				return termErr(t, "value %q is not a boolean; use true or false (attribute %q)", v, a.Name)
			}
		case Time:
			if _, ok := parseTime(v); !ok {
				return termErr(t, "value %q is not an RFC 3339 date-time such as 2024-05-01T12:00:00Z (attribute %q)", v, a.Name)
			}
		}
	}
	return nil
}

// attr checks the path of t and returns the attribute it starts with.
func (t Term) attr(s *Schema) (*Attr, error) {
	if len(t.Path) == 0 {
		return nil, termErr(t, "empty attribute path")
	}
	if len(t.Path) > maxPath {
		return nil, termErr(t, "attribute path has more than %d segments", maxPath)
	}
	for _, seg := range t.Path {
		if err := checkSegment(seg); err != "" {
			return nil, termErr(t, "attribute path segment %q %s", seg, err)
		}
	}
	a := s.attr(t.Path[0])
	if a == nil {
		return nil, termErr(t, "unknown attribute %q", t.Path[0])
	}
	if len(t.Path) > 1 && a.Type != Object {
		return nil, termErr(t, "attribute %q has no sub-attributes, so %q is not a valid path",
			a.Name, strings.Join(t.Path, "/"))
	}
	if len(t.Path) == 1 && a.Type == Object {
		return nil, termErr(t, "attribute %q is an object; filter on a key inside it, such as %s/<key>", a.Name, a.Name)
	}
	return a, nil
}

// checkSegment returns why seg cannot be a path segment, or "". Quotes and
// control characters are refused because they would need escaping in the
// SQLite JSON path syntax and never occur in real attribute names.
func checkSegment(seg string) string {
	if seg == "" {
		return "is empty"
	}
	if !utf8.ValidString(seg) {
		return "is not valid UTF-8"
	}
	for _, r := range seg {
		if r == '"' || unicode.IsControl(r) {
			return "contains a double quote or control character"
		}
	}
	return ""
}

// termErr returns the EINVALID error for a problem with t.
func termErr(t Term, format string, args ...any) error {
	return ims.Errorf(ims.EINVALID, "filter: "+format+" in %s", append(args, snippetTerm(t))...)
}

// snippetTerm renders t for an error message, shortened if it is long.
func snippetTerm(t Term) string {
	s := t.String()
	const limit = 120
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
