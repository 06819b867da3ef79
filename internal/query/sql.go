package query

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// Dialect selects the SQL flavour that Builder produces.
type Dialect int

// The supported databases. SQLite keeps the document as JSON TEXT,
// PostgreSQL as JSONB.
const (
	SQLite Dialect = iota
	Postgres
)

// Builder accumulates the bind arguments of one SQL statement and produces
// their placeholders. The zero value builds SQLite SQL; a Builder can be
// used for other parts of the same statement before and after Where, since
// PostgreSQL placeholders are numbered from the arguments already present.
type Builder struct {
	Dialect Dialect
	Args    []any
	// NarrowRanges makes Where write the SQLite hint of a range term on
	// an indexed path as a membership test (id IN the ids the index
	// yields), which the planner then reads in id order instead of
	// scanning the table. Set it when RangeProbes showed the ranges
	// narrow: for a wide one the list would be most of the table.
	NarrowRanges bool
}

// RangeProbe is a statement counting, up to a bound, the rows an index
// yields for one range term of a filter.
type RangeProbe struct {
	SQL  string
	Args []any
}

// RangeProbes returns, for SQLite, one probe per range term of f on an
// indexed path (Schema.IndexedPaths), each counting at most limit+1 index
// entries: when every count is at most limit, the caller may set
// NarrowRanges. SQLite has no statistics unless ANALYZE ran, so its
// planner cannot tell a narrow range from a wide one by itself; an
// index-only count of a bounded number of entries can. None for
// PostgreSQL, whose planner estimates ranges from its statistics.
func RangeProbes(d Dialect, f Filter, s *Schema, limit int) []RangeProbe {
	if d != SQLite || f.Validate(s) != nil {
		return nil
	}
	var probes []RangeProbe
	for _, t := range f.Terms {
		a := s.attr(t.Path[0])
		vals := convert(a.Type, t.Values)
		if (t.Op == Gt || t.Op == Gte) && len(vals.num) == 1 && a.Type == Object && s.indexed(t.Path) {
			b := Builder{Dialect: d}
			q := "SELECT count(*) FROM (SELECT 1 FROM " + s.Name + " WHERE " + b.sqliteRange(s, t.Path, t.Op, vals.num[0]) + " LIMIT " + b.Arg(limit+1) + ")"
			probes = append(probes, RangeProbe{SQL: q, Args: b.Args})
		}
	}
	return probes
}

// sqliteRange is the indexed range test of a path (see hint).
func (b *Builder) sqliteRange(s *Schema, path []string, op Op, bound any) string {
	return "(json_extract(" + s.DocColumn + ", " + quote(sqlitePath(path)) + ") " + sqlOp(op) + " " + b.Arg(bound) + ")"
}

// Arg appends v to the arguments and returns its placeholder: "?" for
// SQLite and "$N" for PostgreSQL.
func (b *Builder) Arg(v any) string {
	b.Args = append(b.Args, v)
	if b.Dialect == Postgres {
		return "$" + strconv.Itoa(len(b.Args))
	}
	return "?"
}

// Where validates f against s and returns an SQL boolean expression that
// holds for exactly the rows of s that f matches: "1=1" (SQLite) or "TRUE"
// (PostgreSQL) for the empty filter. Values and JSON paths become bind
// arguments; only s.DocColumn and the attributes' Column names are written
// into the SQL text. On error no arguments are added.
//
// In a free-form Object the stored JSON type decides the comparison: a
// string compares as a string, a number numerically with filter values that
// are numbers, a boolean only under eq and in (and so neq and nin) with the
// values true and false, and an array when any element does. Null, objects
// and missing values match no positive operator. cont applies to strings
// only.
//
// Each term is evaluated as its positive operator wrapped in COALESCE(...,
// FALSE), and a negated operator (neq, nin, ncont) as NOT of that, so a
// missing attribute fails eq yet satisfies neq, and SQL NULLs never make a
// term unknown.
func (b *Builder) Where(f Filter, s *Schema) (string, error) {
	if b.Dialect != SQLite && b.Dialect != Postgres {
		return "", ims.Errorf(ims.EINTERNAL, "query: unknown SQL dialect %d", b.Dialect)
	}
	if err := f.Validate(s); err != nil {
		return "", err
	}
	if len(f.Terms) == 0 && len(f.Conds) == 0 {
		if b.Dialect == Postgres {
			return "TRUE", nil
		}
		return "1=1", nil
	}
	// Validate guarantees that every attribute exists; a schema without a
	// document column is a programming error, caught before any argument
	// is added.
	for _, t := range f.Terms {
		if a := s.attr(t.Path[0]); s.DocColumn == "" && (a.Column == "" || a.List || a.Type == Object) {
			return "", ims.Errorf(ims.EINTERNAL, "query: schema %q has no DocColumn for attribute %q", s.Name, a.Name)
		}
	}
	parts := make([]string, 0, len(f.Terms)+len(f.Conds))
	for _, t := range f.Terms {
		pos, neg := t.Op.negated()
		// The hint comes first: SQLite evaluates the terms in order, and
		// the hint is the cheap test.
		if !neg {
			if h := b.hint(t, s, pos); h != "" {
				parts = append(parts, h)
			}
		}
		p := "COALESCE(" + b.term(t, s.attr(t.Path[0]), pos, s.DocColumn) + ", FALSE)"
		if neg {
			p = "NOT " + p
		}
		parts = append(parts, p)
	}
	for _, c := range f.Conds {
		parts = append(parts, "COALESCE(("+c(b)+"), FALSE)")
	}
	return strings.Join(parts, " AND "), nil
}

// hint returns a condition that every row matching the positive term t
// satisfies, written so that an index of the store answers it, or "" when
// no index applies. Where adds it next to the exact predicate, so results
// are unchanged; it only lets the database find the candidates without
// scanning the table. A hint is never NULL where the term holds, so the
// conjunction stays two-valued.
func (b *Builder) hint(t Term, s *Schema, op Op) string {
	a := s.attr(t.Path[0])
	vals := convert(a.Type, t.Values)
	switch {
	case a.Column != "" && !a.List && a.Type != Object && op != Cont:
		// The exact predicate without its COALESCE, which hides the
		// column from the planner: the column's index then yields the
		// rows (in id order, for the indexes on (column, id)).
		col := constant(a.Column)
		if a.Type == Number {
			return b.cmp(col, op, vals.num, true, false)
		}
		return b.cmp(col, op, vals.text, false, a.Type != Bool)
	case a.List && a.Type == String && a.ElementTable != "" && len(t.Path) == 1 && (op == Eq || op == In):
		// The exact predicate holds for a string element (or a single
		// string) equal to a value: exactly the index's entries. A single
		// value is read through Drive, whose order the planner should
		// keep: a second index would lure it into sorting every match.
		if b.Dialect == Postgres && len(vals.text) > 1 {
			x := "(" + s.DocColumn + " -> " + quote(a.Name) + ")"
			terms := make([]string, len(vals.text))
			for i, v := range vals.text {
				// A jsonb constant (not to_jsonb of the value) lets the
				// planner estimate the containment.
				j, _ := json.Marshal(v)
				terms[i] = x + " @> " + b.Arg(string(j)) + "::jsonb"
			}
			return or(terms)
		}
		// SQLite reads the element table through Drive instead (for one
		// value): a membership test here would make its planner build
		// the list of every matching id, however common the value.
		return ""
	case (op == Gt || op == Gte) && len(vals.num) == 1 && a.Type == Object && s.indexed(t.Path):
		// A match is a number above the bound, a string (a text value
		// of the term may match it) or an array holding either.
		if b.Dialect == Postgres {
			x := "(" + s.DocColumn
			for _, seg := range t.Path {
				x += " -> " + quote(seg)
			}
			x += ")"
			// jsonb orders numbers numerically, and arrays, objects and
			// booleans after them; the bound is a jsonb constant so that
			// the planner estimates the range from the index's statistics.
			n := strconv.FormatFloat(vals.num[0].(float64), 'g', -1, 64)
			return "(" + x + " " + sqlOp(op) + " " + b.Arg(n) + "::jsonb OR jsonb_typeof(" + x + ") IN ('string', 'array'))"
		}
		// SQLite orders every TEXT after every number, and json_extract
		// returns strings and arrays as TEXT: the range holds them all.
		if b.NarrowRanges {
			return s.Name + ".id IN (SELECT id FROM " + s.Name + " WHERE " + b.sqliteRange(s, t.Path, op, vals.num[0]) + ")"
		}
		return b.sqliteRange(s, t.Path, op, vals.num[0])
	}
	return ""
}

// Drive returns a FROM clause that reads the objects of s through the
// element table of one term of f, an eq (or in) with a single value on a
// list attribute with an ElementTable, and the column that orders them by
// id: a page then walks that table's (value, object_id) key in order and
// stops when it is full, however many objects match. It joins without
// duplicates (the key is unique) and leaves every term, that one
// included, to Where. ok is false when no term qualifies and for a
// filter Where would refuse. Call it before Where: its placeholder
// precedes Where's.
func (b *Builder) Drive(f Filter, s *Schema) (from, key string, ok bool) {
	if f.Validate(s) != nil {
		return "", "", false
	}
	for _, t := range f.Terms {
		a := s.attr(t.Path[0])
		if a.List && a.Type == String && a.ElementTable != "" && len(t.Path) == 1 && (t.Op == Eq || t.Op == In) && len(t.Values) == 1 {
			from = a.ElementTable + " AS q_d JOIN " + s.Name + " ON " + s.Name + ".id = q_d.object_id AND q_d.value = " + b.Arg(t.Values[0])
			return from, "q_d.object_id", true
		}
	}
	return "", "", false
}

// indexed reports whether path is one of s.IndexedPaths.
func (s *Schema) indexed(path []string) bool {
	for _, p := range s.IndexedPaths {
		if slices.Equal(p, path) {
			return true
		}
	}
	return false
}

// quote returns s as an SQL string literal. Only trusted schema names
// and paths are quoted; filter values are always bind arguments.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// operands are the bind values of one term, converted for comparison with
// a value of a given JSON type. A nil slice means that no value of the term
// can match that type.
type operands struct {
	text  []any // strings compared byte-wise (String, Time after normalising, Bool)
	num   []any // float64 values compared numerically
	bools []any // "true" and "false" among the values of an Object term
}

// convert prepares the values of t for an attribute of type ty. Validate has
// already checked that they parse.
func convert(ty Type, values []string) operands {
	var o operands
	for _, v := range values {
		switch ty {
		case Number:
			f, _ := parseNumber(v)
			o.num = append(o.num, f)
		case Time:
			s, _ := parseTime(v)
			o.text = append(o.text, s)
		case Object:
			o.text = append(o.text, v)
			// A JSON number in a free-form object compares numerically
			// with those filter values that are numbers.
			if f, ok := parseNumber(v); ok {
				o.num = append(o.num, f)
			}
			if v == "true" || v == "false" {
				o.bools = append(o.bools, v)
			}
		default:
			o.text = append(o.text, v)
		}
	}
	return o
}

// term returns the SQL for the positive operator op of term t on attribute
// a. The result may be NULL; Where wraps it in COALESCE.
func (b *Builder) term(t Term, a *Attr, op Op, doc string) string {
	vals := convert(a.Type, t.Values)
	switch {
	case a.Column != "" && !a.List && a.Type != Object:
		col := func() string { return a.Column }
		if a.Type == Number {
			return b.cmp(col, op, vals.num, true, false)
		}
		return b.cmp(col, op, vals.text, false, a.Type != Bool)
	case !a.List && a.Type != Object:
		if b.Dialect == Postgres {
			return b.pgElem(b.pgPath(doc, t.Path), a.Type, op, vals)
		}
		path := sqlitePath(t.Path)
		return b.sqliteElem(
			func() string { return "json_type(" + doc + ", " + b.Arg(path) + ")" },
			func() string { return "json_extract(" + doc + ", " + b.Arg(path) + ")" },
			a.Type, op, vals)
	case a.Type == Object && a.List:
		// An array of free-form objects: some element must have a value
		// at the rest of the path that matches.
		if b.Dialect == Postgres {
			outer := b.pgPath(doc, t.Path[:1])
			inner := b.pgPath("q_o.v", t.Path[1:])
			return "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(" + outer + ") = 'array' THEN " + outer + " END) AS q_o(v), " +
				pgElements(inner) + " AS q_e(v) WHERE " + b.pgElem("q_e.v", a.Type, op, vals) + ")"
		}
		// json_each over a non-JSON value would fail, so only object
		// elements are opened; the integer key proves the outer value is
		// an array, and a text inner key would be a member of an object.
		sql := "EXISTS (SELECT 1 FROM json_each(" + doc + ", " + b.Arg(sqlitePath(t.Path[:1])) + ") AS q_o, " +
			"json_each(CASE WHEN q_o.type = 'object' THEN q_o.value END, " + b.Arg(sqlitePath(t.Path[1:])) + ") AS q_e " +
			"WHERE typeof(q_o.key) = 'integer' AND typeof(q_e.key) <> 'text' AND "
		return sql + b.sqliteElem(func() string { return "q_e.type" }, func() string { return "q_e.value" }, a.Type, op, vals) + ")"
	default:
		// A list attribute, or a path into a free-form object: the value
		// matches when it, or any element of it if it is an array, does.
		if b.Dialect == Postgres {
			return "EXISTS (SELECT 1 FROM " + pgElements(b.pgPath(doc, t.Path)) + " AS q_e(v) WHERE " +
				b.pgElem("q_e.v", a.Type, op, vals) + ")"
		}
		// json_each yields the elements of an array, a scalar itself (with
		// a NULL key), and the members of an object (with text keys), which
		// must not count as elements.
		sql := "EXISTS (SELECT 1 FROM json_each(" + doc + ", " + b.Arg(sqlitePath(t.Path)) + ") AS q_e WHERE typeof(q_e.key) <> 'text' AND "
		return sql + b.sqliteElem(func() string { return "q_e.type" }, func() string { return "q_e.value" }, a.Type, op, vals) + ")"
	}
}

// sqlitePath returns the SQLite JSON path of the segments, each quoted so
// that dots and brackets in keys are literal. Validate has refused double
// quotes and control characters; backslashes are escaped as in JSON.
func sqlitePath(segs []string) string {
	var sb strings.Builder
	sb.WriteByte('$')
	for _, s := range segs {
		sb.WriteString(`."`)
		sb.WriteString(strings.ReplaceAll(s, `\`, `\\`))
		sb.WriteByte('"')
	}
	return sb.String()
}

// pgPath returns a JSONB expression for the value at segs below base. It
// chains "->" with text keys instead of using "#>" with a text[] path
// because "#>" would also index into arrays with numeric segments, whereas
// SQLite (and the filter semantics) only descend into objects.
func (b *Builder) pgPath(base string, segs []string) string {
	var sb strings.Builder
	sb.WriteString("(")
	sb.WriteString(base)
	for _, s := range segs {
		sb.WriteString(" -> ")
		sb.WriteString(b.Arg(s))
		sb.WriteString("::text")
	}
	sb.WriteString(")")
	return sb.String()
}

// pgElements returns a set-returning expression over the elements of the
// JSONB value x if it is an array, or over x alone otherwise.
func pgElements(x string) string {
	return "jsonb_array_elements(CASE WHEN jsonb_typeof(" + x + ") = 'array' THEN " + x + " ELSE jsonb_build_array(" + x + ") END)"
}

// sqliteElem returns the SQLite predicate for one JSON value, given as
// functions returning its json_type name and its SQL value. Each call of typ
// or val may add a bind argument, so each result is used exactly once and
// the pieces are concatenated in the order they were produced.
func (b *Builder) sqliteElem(typ, val func() string, ty Type, op Op, o operands) string {
	var branches []string
	text := func() {
		t := typ()
		branches = append(branches, "("+t+" = 'text' AND "+b.cmp(val, op, o.text, false, false)+")")
	}
	num := func() {
		t := typ()
		branches = append(branches, "("+t+" IN ('integer', 'real') AND "+b.cmp(val, op, o.num, false, false)+")")
	}
	// json_type names the booleans "true" and "false", which is exactly
	// the text they are compared with.
	boolean := func(values []any) {
		t := typ()
		branches = append(branches, "("+t+" IN ('true', 'false') AND "+b.cmp(typ, op, values, false, false)+")")
	}
	switch ty {
	case String, Time:
		text()
	case Number:
		num()
	case Bool:
		boolean(o.text)
	case Object:
		text()
		if op != Cont && len(o.num) > 0 {
			num()
		}
		if (op == Eq || op == In) && len(o.bools) > 0 {
			boolean(o.bools)
		}
	}
	return or(branches)
}

// pgElem returns the PostgreSQL predicate for the JSONB value x, which may
// be referred to any number of times.
func (b *Builder) pgElem(x string, ty Type, op Op, o operands) string {
	var branches []string
	scalar := "(" + x + " #>> '{}')"
	text := func() {
		branches = append(branches, "(jsonb_typeof("+x+") = 'string' AND "+b.cmp(constant(scalar), op, o.text, false, true)+")")
	}
	// The cast happens only inside the CASE, where x is known to be a
	// number; a plain AND would not stop PostgreSQL from casting first.
	num := func() {
		n := "(CASE WHEN jsonb_typeof(" + x + ") = 'number' THEN (" + x + ")::numeric END)"
		branches = append(branches, b.cmp(constant(n), op, o.num, true, false))
	}
	boolean := func(values []any) {
		branches = append(branches, "(jsonb_typeof("+x+") = 'boolean' AND "+b.cmp(constant(scalar), op, values, false, false)+")")
	}
	switch ty {
	case String, Time:
		text()
	case Number:
		num()
	case Bool:
		boolean(o.text)
	case Object:
		text()
		if op != Cont && len(o.num) > 0 {
			num()
		}
		if (op == Eq || op == In) && len(o.bools) > 0 {
			boolean(o.bools)
		}
	}
	return or(branches)
}

// constant returns a function that always yields s, for left-hand sides
// that contain no placeholders.
func constant(s string) func() string { return func() string { return s } }

// or joins alternative predicates; none at all is false.
func or(branches []string) string {
	switch len(branches) {
	case 0:
		return "FALSE"
	case 1:
		return branches[0]
	}
	return "(" + strings.Join(branches, " OR ") + ")"
}

// cmp returns "lhs op values" for a positive operator. lhs is called once per
// occurrence in the output. numeric casts PostgreSQL placeholders to numeric
// so that they compare with numeric, double precision and integer columns
// alike; collate orders PostgreSQL strings byte-wise, as SQLite does.
func (b *Builder) cmp(lhs func() string, op Op, values []any, numeric, collate bool) string {
	if len(values) == 0 {
		// Validate prevents this; an operator without values matches nothing.
		return "FALSE"
	}
	pg := b.Dialect == Postgres
	ph := func(v any) string {
		p := b.Arg(v)
		if pg && numeric {
			p += "::numeric"
		}
		return p
	}
	switch op {
	case In:
		l := lhs()
		phs := make([]string, len(values))
		for i, v := range values {
			phs[i] = ph(v)
		}
		return "(" + l + " IN (" + strings.Join(phs, ", ") + "))"
	case Cont:
		terms := make([]string, len(values))
		for i, v := range values {
			l := lhs()
			if pg {
				terms[i] = "strpos(" + l + ", " + ph(v) + ") > 0"
			} else {
				terms[i] = "instr(" + l + ", " + ph(v) + ") > 0"
			}
		}
		return or(terms)
	}
	// Validate has ensured exactly one value for the other operators.
	l := lhs()
	if pg && collate && op.ordering() {
		l = "(" + l + ") COLLATE \"C\""
	}
	return "(" + l + " " + sqlOp(op) + " " + ph(values[0]) + ")"
}

// sqlOp maps a comparison operator to SQL.
func sqlOp(op Op) string {
	switch op {
	case Gt:
		return ">"
	case Lt:
		return "<"
	case Gte:
		return ">="
	case Lte:
		return "<="
	}
	return "="
}
