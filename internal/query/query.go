// Package query implements the query language of ETSI GS NFV-SOL 013
// (clause 5.2 attribute-based filtering and clause 5.3 attribute selectors)
// for the collection endpoints of the O2 IMS API.
//
// A filter is parsed once (ParseFilter), checked against the Schema of the
// queried object type (Filter.Validate), and translated into a parameterised
// SQL boolean expression for SQLite or PostgreSQL (Builder.Where). Client
// values and JSON paths always travel as bind arguments; only the trusted
// column names from the Schema appear in the SQL text.
//
// Every error caused by the client's input is an *ims.Error with code
// ims.EINVALID, so the API layer answers 400 with the message unchanged.
package query

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nephoran/o2ims/internal/ims"
)

// Op is a SOL013 filter operator such as "eq" or "cont".
type Op string

// The operators of SOL013 clause 5.2.2. The first six compare with exactly
// one value; the last four accept one or more values.
const (
	Eq    Op = "eq"
	Neq   Op = "neq"
	Gt    Op = "gt"
	Lt    Op = "lt"
	Gte   Op = "gte"
	Lte   Op = "lte"
	In    Op = "in"
	Nin   Op = "nin"
	Cont  Op = "cont"
	Ncont Op = "ncont"
)

// valid reports whether op is one of the ten SOL013 operators.
func (op Op) valid() bool {
	switch op {
	case Eq, Neq, Gt, Lt, Gte, Lte, In, Nin, Cont, Ncont:
		return true
	}
	return false
}

// multi reports whether op takes a list of values rather than exactly one.
func (op Op) multi() bool {
	switch op {
	case In, Nin, Cont, Ncont:
		return true
	}
	return false
}

// negated reports whether op is the negation of another operator, and
// returns that positive operator. The SQL translation evaluates only
// positive operators and negates them, so that a negated operator is exactly
// the complement of its positive counterpart (missing attributes included).
func (op Op) negated() (Op, bool) {
	switch op {
	case Neq:
		return Eq, true
	case Nin:
		return In, true
	case Ncont:
		return Cont, true
	}
	return op, false
}

// ordering reports whether op compares by order rather than equality.
func (op Op) ordering() bool {
	switch op {
	case Gt, Lt, Gte, Lte:
		return true
	}
	return false
}

// Term is one "(op,attr/path,value[,value...])" criterion of a filter.
type Term struct {
	Op     Op
	Path   []string
	Values []string
}

// String renders the term in filter syntax, quoting values where needed, so
// that error messages show the client exactly which term is at fault.
func (t Term) String() string {
	var sb strings.Builder
	sb.WriteByte('(')
	sb.WriteString(string(t.Op))
	sb.WriteByte(',')
	sb.WriteString(strings.Join(t.Path, "/"))
	for _, v := range t.Values {
		sb.WriteByte(',')
		sb.WriteString(quoteValue(v))
	}
	sb.WriteByte(')')
	return sb.String()
}

// quoteValue returns v as it would have to be written in a filter.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, ",()'") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// Filter is a conjunction of terms: SOL013 joins terms with ';' and a
// resource matches only when every term holds.
type Filter struct {
	Terms []Term
	// Conds are conditions the server adds (never parsed from client
	// input), for criteria the filter language cannot express, such as
	// free capacity computed from other tables. Match ignores them.
	Conds []Cond
}

// Cond renders a trusted SQL boolean expression; client values must go
// through b.Arg.
type Cond func(b *Builder) string

// String renders the filter in filter syntax.
func (f Filter) String() string {
	parts := make([]string, len(f.Terms))
	for i, t := range f.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, ";")
}

// Limits that keep a single request from producing statements the databases
// refuse (SQLite allows at most 32766 bind arguments) or that are merely
// expensive. They are far above anything a legitimate client sends.
const (
	maxTerms  = 64
	maxValues = 512 // over all terms of one filter
	maxPath   = 16  // segments in one attribute path
)

// ParseFilter parses the value of the SOL013 "filter" query parameter, which
// the HTTP layer has already URL-decoded. The empty string is the empty
// filter, which matches everything.
//
// Values may be enclosed in single quotes to contain ',', '/', ';', '(',
// ')' or spaces; inside quotes two single quotes stand for one, and a pair
// of quotes with nothing between them is the empty string. Whitespace is significant everywhere. ParseFilter checks
// syntax only; Validate checks the terms against a Schema.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if s == "" {
		return f, nil
	}
	p := parser{s: s}
	nvalues := 0
	for n := 1; ; n++ {
		if n > maxTerms {
			return Filter{}, ims.Errorf(ims.EINVALID, "filter: too many terms (at most %d)", maxTerms)
		}
		t, err := p.term(n)
		if err != nil {
			return Filter{}, err
		}
		nvalues += len(t.Values)
		if nvalues > maxValues {
			return Filter{}, ims.Errorf(ims.EINVALID, "filter: too many values (at most %d in all terms)", maxValues)
		}
		f.Terms = append(f.Terms, t)
		if p.i == len(s) {
			return f, nil
		}
		if s[p.i] != ';' {
			return Filter{}, ims.Errorf(ims.EINVALID, "filter: unexpected %s after term %d %s at offset %d; terms are separated by \";\"",
				snippet(s[p.i:]), n, t, p.i)
		}
		p.i++
	}
}

// parser is the cursor of ParseFilter over the filter text.
type parser struct {
	s string
	i int
}

// term parses the n-th term, starting at p.i and ending after its ')'.
func (p *parser) term(n int) (Term, error) {
	var t Term
	start := p.i
	if p.i == len(p.s) || p.s[p.i] == ';' {
		return t, ims.Errorf(ims.EINVALID, "filter: term %d is empty at offset %d", n, p.i)
	}
	if p.s[p.i] != '(' {
		return t, ims.Errorf(ims.EINVALID, "filter: term %d must start with \"(\", found %s at offset %d", n, snippet(p.s[p.i:]), p.i)
	}
	p.i++

	op, err := p.bare(n, start, "operator")
	if err != nil {
		return t, err
	}
	t.Op = Op(op)
	if !t.Op.valid() {
		return t, ims.Errorf(ims.EINVALID, "filter: unknown operator %q in term %d %s", op, n, snippet(p.s[start:]))
	}
	if err := p.expectComma(n, start, "operator"); err != nil {
		return t, err
	}

	path, err := p.bare(n, start, "attribute path")
	if err != nil {
		return t, err
	}
	if path == "" {
		return t, ims.Errorf(ims.EINVALID, "filter: empty attribute path in term %d %s", n, snippet(p.s[start:]))
	}
	t.Path = strings.Split(path, "/")
	if len(t.Path) > maxPath {
		return t, ims.Errorf(ims.EINVALID, "filter: attribute path %q in term %d has more than %d segments", path, n, maxPath)
	}
	for _, seg := range t.Path {
		if seg == "" {
			return t, ims.Errorf(ims.EINVALID, "filter: empty segment in attribute path %q in term %d", path, n)
		}
	}
	if err := p.expectComma(n, start, "attribute path"); err != nil {
		return t, err
	}

	for {
		v, err := p.value(n, start)
		if err != nil {
			return t, err
		}
		t.Values = append(t.Values, v)
		// value() only returns with p.i at ',' or ')'.
		c := p.s[p.i]
		p.i++
		if c == ')' {
			return t, nil
		}
	}
}

// bare reads an unquoted operator or path up to the next ','. It stops
// without consuming the ','.
func (p *parser) bare(n, start int, what string) (string, error) {
	from := p.i
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ',':
			return p.s[from:p.i], nil
		case ')':
			return "", ims.Errorf(ims.EINVALID, "filter: term %d %s ends after the %s; expected (op,attribute,value)",
				n, snippet(p.s[start:p.i+1]), what)
		case '(', '\'', ';':
			return "", ims.Errorf(ims.EINVALID, "filter: unexpected %q in the %s of term %d %s",
				p.s[p.i], what, n, snippet(p.s[start:]))
		}
		p.i++
	}
	return "", ims.Errorf(ims.EINVALID, "filter: missing \")\" closing term %d %s", n, snippet(p.s[start:]))
}

// expectComma consumes the ',' that bare stopped at.
func (p *parser) expectComma(n, start int, after string) error {
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	return ims.Errorf(ims.EINVALID, "filter: expected \",\" after the %s of term %d %s", after, n, snippet(p.s[start:]))
}

// value reads one quoted or unquoted value and leaves p.i at the ',' or ')'
// that follows it.
func (p *parser) value(n, start int) (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '\'' {
		return p.quoted(n, start)
	}
	from := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ',', ')':
			if p.i == from {
				return "", ims.Errorf(ims.EINVALID, "filter: empty value in term %d %s; write '' for the empty string",
					n, snippet(p.s[start:]))
			}
			return p.s[from:p.i], nil
		case '(', '\'':
			return "", ims.Errorf(ims.EINVALID, "filter: unexpected %q in value %s of term %d; quote values containing , ( ) ' with '...'",
				c, snippet(p.s[from:]), n)
		}
		p.i++
	}
	return "", ims.Errorf(ims.EINVALID, "filter: missing \")\" closing term %d %s", n, snippet(p.s[start:]))
}

// quoted reads a single-quoted value starting at the opening quote.
func (p *parser) quoted(n, start int) (string, error) {
	open := p.i
	p.i++
	var sb strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c != '\'' {
			sb.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 < len(p.s) && p.s[p.i+1] == '\'' {
			sb.WriteByte('\'')
			p.i += 2
			continue
		}
		p.i++ // closing quote
		if p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == ')') {
			return sb.String(), nil
		}
		if p.i == len(p.s) {
			return "", ims.Errorf(ims.EINVALID, "filter: missing \")\" closing term %d %s", n, snippet(p.s[start:]))
		}
		return "", ims.Errorf(ims.EINVALID, "filter: unexpected %s after quoted value %s in term %d",
			snippet(p.s[p.i:]), snippet(p.s[open:p.i]), n)
	}
	return "", ims.Errorf(ims.EINVALID, "filter: unterminated quoted value %s at offset %d in term %d", snippet(p.s[open:]), open, n)
}

// snippet quotes the start of s for an error message, cut short so that a
// huge parameter cannot blow up the response.
func snippet(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
