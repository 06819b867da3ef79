package o2

import (
	"reflect"
	"strconv"
	"strings"
)

// Filter is an ETSI GS NFV-SOL 013 attribute-based filter: a conjunction
// of terms such as (eq,name,'my pool'). Build one with Eq, In and the other
// operator functions, combine filters with And, and pass it as
// ListOptions.Filter. The zero Filter matches every object.
type Filter struct {
	terms []string
}

// Value is a type a filter value may have: strings, integers, floating
// point numbers and booleans, or types defined on them.
type Value interface {
	~string | ~bool |
		~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64
}

// Eq matches objects whose attribute attr equals value; for a list
// attribute such as "tags", objects where one element equals value.
// Attribute paths into complex attributes use '/', as in
// "extensions/provider".
func Eq[V Value](attr string, value V) Filter { return term("eq", attr, value) }

// Neq matches objects whose attribute attr differs from value.
func Neq[V Value](attr string, value V) Filter { return term("neq", attr, value) }

// Gt matches objects whose attribute attr is greater than value.
func Gt[V Value](attr string, value V) Filter { return term("gt", attr, value) }

// Gte matches objects whose attribute attr is greater than or equal to
// value.
func Gte[V Value](attr string, value V) Filter { return term("gte", attr, value) }

// Lt matches objects whose attribute attr is less than value.
func Lt[V Value](attr string, value V) Filter { return term("lt", attr, value) }

// Lte matches objects whose attribute attr is less than or equal to value.
func Lte[V Value](attr string, value V) Filter { return term("lte", attr, value) }

// In matches objects whose attribute attr equals one of values.
func In[V Value](attr string, values ...V) Filter { return term("in", attr, values...) }

// Nin matches objects whose attribute attr equals none of values.
func Nin[V Value](attr string, values ...V) Filter { return term("nin", attr, values...) }

// Cont matches objects whose string attribute attr contains one of values.
func Cont(attr string, values ...string) Filter { return term("cont", attr, values...) }

// Ncont matches objects whose string attribute attr contains none of
// values.
func Ncont(attr string, values ...string) Filter { return term("ncont", attr, values...) }

// And returns the filter matching the objects every one of a and more
// match. Zero filters among them are ignored.
func And(a Filter, more ...Filter) Filter {
	out := Filter{terms: append([]string(nil), a.terms...)}
	for _, f := range more {
		out.terms = append(out.terms, f.terms...)
	}
	return out
}

// RawFilter wraps an already written SOL013 filter expression, such as
// the value of a command-line flag, so it can be passed as
// ListOptions.Filter. It is sent unchanged; the server validates it. An
// empty expr gives the zero Filter.
func RawFilter(expr string) Filter {
	if expr == "" {
		return Filter{}
	}
	return Filter{terms: []string{expr}}
}

// String returns the filter in the SOL013 syntax, terms joined with ';',
// or "" for the zero Filter.
func (f Filter) String() string {
	return strings.Join(f.terms, ";")
}

// IsZero reports whether f has no term and so matches every object.
func (f Filter) IsZero() bool {
	return len(f.terms) == 0
}

// term renders one "(op,attr,value,...)" term.
func term[V Value](op, attr string, values ...V) Filter {
	var sb strings.Builder
	sb.WriteString("(")
	sb.WriteString(op)
	sb.WriteString(",")
	sb.WriteString(attr)
	for _, v := range values {
		sb.WriteString(",")
		sb.WriteString(quote(format(v)))
	}
	sb.WriteString(")")
	return Filter{terms: []string{sb.String()}}
}

// format renders a filter value as text.
func format[V Value](v V) string {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 32)
	default: // reflect.Float64, the last kind Value admits
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64)
	}
}

// quote returns v as a SOL013 filter value. A value that is empty or
// contains a comma, a parenthesis, a single quote, a semicolon, a slash or
// white space is enclosed in single quotes, each single quote inside
// doubled; any other value is returned unchanged.
func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, ",()';/ \t\r\n") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}
