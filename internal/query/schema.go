package query

import (
	"math"
	"strconv"
	"time"
)

// Type is the value type of an attribute; it decides how filter values are
// parsed and compared.
type Type int

// Attribute types. Object is a free-form JSON object (such as "extensions"):
// any sub-path is allowed and the type of the value stored in the document
// decides how it compares.
const (
	String Type = iota
	Number
	Bool
	Time
	Object
)

// String returns the lower-case name of the type, as used in error messages.
func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "boolean"
	case Time:
		return "date-time"
	case Object:
		return "object"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Attr describes one top-level attribute of an object type.
//
// Column names a dedicated SQL column that the filter uses instead of the
// JSON document so that its index applies. It is honoured only for scalar
// attributes (List false, Type not Object); lists and objects are always
// read from the document. A String or Time column is TEXT (times in the
// format TimeLayout), a Number column is numeric (SQLite INTEGER/REAL,
// PostgreSQL numeric or double precision), and a Bool column is TEXT holding
// "true" or "false".
type Attr struct {
	Name string // the JSON member name in the document
	Type Type
	// List marks a JSON array of Type (e.g. tags: a list of String);
	// with Object it is an array of free-form objects.
	List bool
	// Column is the dedicated SQL column, or "" when the attribute lives
	// only in the JSON document. It is spliced into SQL and must be trusted.
	Column string
	// Complex marks an object or array attribute in the SOL013 sense; only
	// complex attributes are subject to the attribute selectors.
	Complex bool
	// ExcludedByDefault puts the attribute into the "exclude_default" set.
	ExcludedByDefault bool
	// Always renders the attribute whenever the selection keeps it, also
	// when the document lacks it: as {} (Object), [] (List) or ""
	// (String). O2ims clients read such attributes as present, if empty,
	// under all_fields.
	Always bool
	// Derived marks an attribute computed from other objects when the
	// object is read (a location's sites, say); it is not in the stored
	// document, so filters refuse it.
	Derived bool
	// ElementTable, for a List of String, names the table (value,
	// object_id) in which the store keeps the attribute's string elements
	// (triggers maintain it): a filter term eq with one value reads the
	// objects through it (Builder.Drive). PostgreSQL also keeps a GIN
	// index on the attribute's JSONB value, which eq and in terms with
	// several values test besides their exact predicate. It is spliced
	// into SQL and must be trusted.
	ElementTable string
}

// empty is the value an Always attribute takes when a document lacks it.
func (a Attr) empty() (any, bool) {
	switch {
	case !a.Always:
		return nil, false
	case a.List:
		return []any{}, true
	case a.Type == Object:
		return map[string]any{}, true
	case a.Type == String:
		return "", true
	}
	return nil, false
}

// Schema describes the filterable and selectable attributes of one object
// type and where the store keeps them.
type Schema struct {
	// Name is the SQL table holding the objects. It is spliced into SQL
	// and must be trusted.
	Name string
	// Object names the object type in messages, e.g. "resource pool".
	Object string
	// DocColumn is the SQL column holding the JSON document (TEXT in SQLite,
	// JSONB in PostgreSQL). It is spliced into SQL and must be trusted.
	DocColumn string
	// Where, when set, is a fixed SQL condition restricting the table to
	// the objects of this schema (several object kinds may share a
	// table). It is spliced into SQL and must be trusted; the store adds
	// it to every statement, Builder.Where does not.
	Where string
	Attrs []Attr
	// Stored are columns the store writes from the document that are not
	// attributes of this rendering of the object (another API version
	// shows them). Filters and selectors never see them.
	Stored []Attr
	// IndexedPaths are paths into free-form Object attributes whose
	// value the store indexes by expression (SQLite: json_extract of the
	// path; PostgreSQL: the JSONB value and its jsonb_typeof). gt and gte
	// filters with a number on such a path add a range test the index
	// answers, besides their exact predicate. The migrations must create
	// the matching indexes.
	IndexedPaths [][]string
}

// attr returns the attribute called name, or nil.
func (s *Schema) attr(name string) *Attr {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// TimeLayout is the format in which the store writes date-time values, in
// UTC. Filter values of Time attributes are converted to it so that
// comparing the strings byte-wise orders them in time.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// parseNumber parses a filter value of a Number comparison. Infinities and
// NaN are refused because neither database orders them like JSON numbers.
func parseNumber(v string) (float64, bool) {
	// Past an optional sign a finite number starts with a digit or a
	// point; ruling out the rest first spares ParseFloat's error value
	// for the common non-numbers (Filter.Match tries every value of an
	// Object term as a number).
	d := v
	if d != "" && (d[0] == '+' || d[0] == '-') {
		d = d[1:]
	}
	if d == "" || !(d[0] == '.' || '0' <= d[0] && d[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseTime parses an RFC 3339 filter value and returns it in TimeLayout.
// Years that do not have four digits in UTC are refused because their
// formatted form would not sort correctly.
func parseTime(v string) (string, bool) {
	var buf [timeBuf]byte
	b, ok := appendTime(buf[:0], v)
	if !ok {
		return "", false
	}
	return string(b), true
}

// timeBuf is the capacity that appendTime needs to append a value without
// allocating: time.Time.AppendFormat writes nine fraction digits before it
// cuts them to six.
const timeBuf = len(TimeLayout) + 3

// appendTime is parseTime appending to dst, so that Filter.Match can
// normalise a value into a buffer on its stack.
func appendTime(dst []byte, v string) ([]byte, bool) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return dst, false
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return dst, false
	}
	return t.AppendFormat(dst, TimeLayout), true
}
