package query

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Match reports whether doc (a decoded JSON object, as produced by
// encoding/json into map[string]any) satisfies every term of f, under schema
// s, with the same semantics as Builder.Where. The empty filter matches every
// document.
//
// The attributes are read from doc alone: an attribute that the store keeps
// in a Column is its top-level member of doc, from which the store writes the
// column. (Should that member have another JSON type than the attribute's,
// the SQL compares whatever the database made of it in the column; Match
// treats it as it treats any value of the wrong type.)
//
// Values compare by the attribute's Type exactly as in the SQL: a Number as
// float64, a Bool under eq and in with true and false, a Time as the stored
// string byte-wise against the filter value normalised to TimeLayout, a
// String byte-wise, and a value in a free-form Object by its JSON type. A List attribute, or an array at the end of a path into an
// Object, matches when any element does. A value of another JSON type than
// the attribute's, null, or a missing value matches no positive operator, and
// neq, nin and ncont are exactly the negation of eq, in and cont, so they
// match it. Numbers may also be json.Number (from a Decoder with UseNumber).
//
// Match expects f to have passed Validate(s). It never panics on a filter
// that has not: a term whose attribute is not in s (or s is nil) treats the
// attribute as missing, so only the negated operators hold; values that do
// not parse as the attribute's type match nothing, and an operator that takes
// one value looks only at the first.
//
// Match parses each filter value at most once per call and allocates nothing
// for the usual filters.
func (f Filter) Match(s *Schema, doc map[string]any) bool {
	for i := range f.Terms {
		t := &f.Terms[i]
		pos, neg := t.Op.negated()
		if t.match(s, pos, doc) == neg {
			return false
		}
	}
	return true
}

// match reports whether the positive operator op of t holds for doc.
func (t *Term) match(s *Schema, op Op, doc map[string]any) bool {
	if s == nil || len(t.Path) == 0 {
		return false
	}
	a := s.attr(t.Path[0])
	if a == nil {
		return false
	}
	switch op {
	case Eq, Gt, Lt, Gte, Lte:
		// Validate ensures exactly one value.
		return len(t.Values) > 0 && matchValue(a, t.Path, op, t.Values[0], doc)
	case In, Cont:
		// Some value must match some element; looping over the values
		// outermost parses each of them once.
		for _, v := range t.Values {
			if matchValue(a, t.Path, op, v, doc) {
				return true
			}
		}
	}
	return false
}

// operand is one filter value prepared for comparison with the JSON values
// of an attribute, like the operands of the SQL translation.
type operand struct {
	op    Op
	ty    Type
	text  string  // compared with strings and booleans (a Time normalised)
	num   float64 // compared with numbers when isNum
	isNum bool
	// isBool marks a value true or false that compares with booleans in
	// an Object; Bool attributes compare text with every operator, as
	// the SQL does.
	isBool bool
}

// matchValue reports whether the positive operator op with the single value
// v holds for the attribute a at path in doc.
func matchValue(a *Attr, path []string, op Op, v string, doc map[string]any) bool {
	o := operand{op: op, ty: a.Type, text: v}
	var buf [timeBuf]byte
	switch a.Type {
	case Number:
		f, ok := parseNumber(v)
		if !ok {
			return false
		}
		o.num, o.isNum = f, true
	case Time:
		b, ok := appendTime(buf[:0], v)
		if !ok {
			return false
		}
		// The string does not escape, so the conversion uses a buffer
		// on the stack (TimeLayout is shorter than 32 bytes).
		o.text = string(b)
	case Object:
		// As in the SQL, a number in an Object compares with the
		// values that are numbers, except under cont, and a boolean
		// only under eq and in with the values true and false.
		if op != Cont {
			o.num, o.isNum = parseNumber(v)
		}
		o.isBool = (op == Eq || op == In) && (v == "true" || v == "false")
	}

	switch {
	case !a.List && a.Type != Object:
		// A scalar, in a column or in the document: no array expansion.
		return o.elem(lookup(doc, path))
	case a.List && a.Type == Object:
		// An array of free-form objects: some object element must have
		// a value at the rest of the path that matches.
		arr, _ := doc[path[0]].([]any)
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok && o.some(lookup(m, path[1:])) {
				return true
			}
		}
		return false
	default:
		// A list, or a path into an object.
		return o.some(lookup(doc, path))
	}
}

// lookup returns the value at path below m, descending only into objects,
// never into arrays; nil if there is none. An empty path yields m itself.
func lookup(m map[string]any, path []string) any {
	var x any = m
	for _, seg := range path {
		obj, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		x = obj[seg]
	}
	return x
}

// some reports whether x, or any element of x if it is an array, matches.
// Elements that are themselves arrays or objects never do.
func (o *operand) some(x any) bool {
	if arr, ok := x.([]any); ok {
		for _, e := range arr {
			if o.elem(e) {
				return true
			}
		}
		return false
	}
	return o.elem(x)
}

// elem reports whether the single JSON value x matches o.
func (o *operand) elem(x any) bool {
	switch x := x.(type) {
	case string:
		return (o.ty == String || o.ty == Time || o.ty == Object) && cmpText(x, o.op, o.text)
	case float64:
		return o.isNum && cmpNum(x, o.op, o.num)
	case json.Number:
		if !o.isNum {
			return false
		}
		f, err := strconv.ParseFloat(string(x), 64)
		return err == nil && cmpNum(f, o.op, o.num)
	case bool:
		switch o.ty {
		case Bool:
			// The SQL compares the text "true" or "false".
			return cmpText(boolText(x), o.op, o.text)
		case Object:
			return o.isBool && boolText(x) == o.text
		}
	}
	return false
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// cmpText compares strings byte-wise, as SQLite does and as PostgreSQL does
// under COLLATE "C"; cont is a case-sensitive substring test.
func cmpText(x string, op Op, v string) bool {
	switch op {
	case Eq, In:
		return x == v
	case Gt:
		return x > v
	case Lt:
		return x < v
	case Gte:
		return x >= v
	case Lte:
		return x <= v
	case Cont:
		return strings.Contains(x, v)
	}
	return false
}

// cmpNum compares numbers; there is no substring test of numbers.
func cmpNum(x float64, op Op, v float64) bool {
	switch op {
	case Eq, In:
		return x == v
	case Gt:
		return x > v
	case Lt:
		return x < v
	case Gte:
		return x >= v
	case Lte:
		return x <= v
	}
	return false
}
