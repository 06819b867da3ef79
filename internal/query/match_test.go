package query

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// decodedDocs returns testDocs decoded as encoding/json does into
// map[string]any, keyed by id.
func decodedDocs(t testing.TB) map[string]map[string]any {
	t.Helper()
	docs := make(map[string]map[string]any, len(testDocs))
	for id, doc := range testDocs {
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("document %s: %v", id, err)
		}
		docs[id] = m
	}
	return docs
}

// decodedDocsNumber is decodedDocs with json.Number for numbers.
func decodedDocsNumber(t testing.TB) map[string]map[string]any {
	t.Helper()
	docs := make(map[string]map[string]any, len(testDocs))
	for id, doc := range testDocs {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("document %s: %v", id, err)
		}
		docs[id] = m
	}
	return docs
}

// matchIDs returns the sorted ids of the documents that f matches.
func matchIDs(f Filter, docs map[string]map[string]any) []string {
	got := []string{}
	for id, m := range docs {
		if f.Match(&testSchema, m) {
			got = append(got, id)
		}
	}
	sort.Strings(got)
	return got
}

// TestMatch runs the semantic table through Match alone, so that it runs
// without databases; runSemantic compares Match with the SQL as well.
func TestMatch(t *testing.T) {
	docs, numDocs := decodedDocs(t), decodedDocsNumber(t)
	for _, tt := range semanticTests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
		}
		if err := f.Validate(&testSchema); err != nil {
			t.Fatalf("Validate(%q): %v", tt.filter, err)
		}
		if got := matchIDs(f, docs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Match(%s) selects %v, want %v", tt.filter, got, tt.want)
		}
		if got := matchIDs(f, numDocs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Match(%s) with json.Number selects %v, want %v", tt.filter, got, tt.want)
		}
	}
}

// TestMatchUnvalidated checks that filters which did not pass Validate
// neither panic nor match anything a validated filter would not.
func TestMatchUnvalidated(t *testing.T) {
	doc := decodedDocs(t)["a"]
	tests := []struct {
		f    Filter
		s    *Schema
		want bool
	}{
		{Filter{}, &testSchema, true},
		{Filter{}, nil, true},
		// An unknown attribute is missing: only negations hold.
		{Filter{Terms: []Term{{Eq, []string{"nope"}, []string{"x"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Neq, []string{"nope"}, []string{"x"}}}}, &testSchema, true},
		{Filter{Terms: []Term{{In, []string{"nope", "deeper"}, []string{"x"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Nin, []string{"nope"}, []string{"x"}}}}, &testSchema, true},
		{Filter{Terms: []Term{{Ncont, []string{"nope"}, []string{"x"}}}}, &testSchema, true},
		{Filter{Terms: []Term{{Neq, []string{"name"}, []string{"x"}}}}, nil, true},
		{Filter{Terms: []Term{{Eq, []string{"name"}, []string{"alpha"}}}}, nil, false},
		{Filter{Terms: []Term{{Eq, nil, []string{"alpha"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Neq, nil, []string{"alpha"}}}}, &testSchema, true},
		// Values that do not parse as the attribute's type match nothing.
		{Filter{Terms: []Term{{Eq, []string{"capacity"}, []string{"ten"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Gt, []string{"created"}, []string{"yesterday"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{In, []string{"capacity"}, []string{"x", "10"}}}}, &testSchema, true},
		// Wrong arity and unknown operators.
		{Filter{Terms: []Term{{Eq, []string{"name"}, nil}}}, &testSchema, false},
		{Filter{Terms: []Term{{In, []string{"name"}, nil}}}, &testSchema, false},
		{Filter{Terms: []Term{{Nin, []string{"name"}, nil}}}, &testSchema, true},
		{Filter{Terms: []Term{{Eq, []string{"name"}, []string{"alpha", "beta"}}}}, &testSchema, true},
		{Filter{Terms: []Term{{"like", []string{"name"}, []string{"alpha"}}}}, &testSchema, false},
		// Sub-paths of scalars and whole objects.
		{Filter{Terms: []Term{{Eq, []string{"name", "x"}, []string{"alpha"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Eq, []string{"extensions"}, []string{"x"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Eq, []string{"elements"}, []string{"x"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Cont, []string{"capacity"}, []string{"1"}}}}, &testSchema, false},
		{Filter{Terms: []Term{{Gt, []string{"enabled"}, []string{"false"}}}}, &testSchema, true},
	}
	for _, tt := range tests {
		if got := tt.f.Match(tt.s, doc); got != tt.want {
			t.Errorf("%s.Match(schema %v) = %v, want %v", tt.f, tt.s != nil, got, tt.want)
		}
	}
	// Nil and empty documents have every attribute missing.
	f, _ := ParseFilter("(neq,name,x);(nin,elements/name,e1);(ncont,extensions/a/b,c)")
	if !f.Match(&testSchema, nil) || !f.Match(&testSchema, map[string]any{}) {
		t.Error("negations do not match a nil or empty document")
	}
	f, _ = ParseFilter("(eq,name,x)")
	if f.Match(&testSchema, nil) {
		t.Error("eq matches a nil document")
	}
}

// TestMatchAllocs checks that Match does not allocate for filters without
// time zone offsets.
func TestMatchAllocs(t *testing.T) {
	doc := decodedDocs(t)["a"]
	f, err := ParseFilter(benchFilter)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(&testSchema, doc) {
		t.Fatalf("%s does not match document a", benchFilter)
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(&testSchema, doc) }); n != 0 {
		t.Errorf("Match allocates %v times per call", n)
	}
}

// benchFilter touches every kind of attribute.
const benchFilter = "(eq,region,eu-west);(neq,name,beta);(gt,capacity,5);(lte,priority,3);(eq,enabled,true);" +
	"(gte,created,2024-01-01T00:00:00Z);(in,tags,core,gpu);(nin,ports,22,8080);(cont,extensions/site,ar);" +
	"(eq,extensions/floor,3);(eq,extensions/managed,true);(eq,elements/slot,2);(ncont,description,x)"

func BenchmarkMatch(b *testing.B) {
	doc := decodedDocs(b)["a"]
	f, err := ParseFilter(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Validate(&testSchema); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(&testSchema, doc) {
			b.Fatal("no match")
		}
	}
}

// FuzzMatch checks Match against SQLite on random filters and random
// documents: a document is stored as the store would store it (as
// encoding/json re-encodes it, with the column attributes copied out) and
// the filter's SQL must select it exactly when Match accepts it.
func FuzzMatch(f *testing.F) {
	ids := strings.Split("a b c d e f g h i j", " ")
	for i, tt := range semanticTests {
		f.Add(tt.filter, testDocs[ids[i%len(ids)]])
	}
	f.Add("(gt,capacity,9007199254740992)", `{"capacity":9007199254740993}`)
	f.Add("(eq,extensions/k,x)", `{"extensions":{"k":"x","k":"y"}}`)
	f.Add("(cont,name,\u00e9)", `{"name":"\u00e9\ud800\u0000"}`)
	f.Add("(lt,tags,b)", `{"tags":[["a"],{"0":"a"},null,"a"]}`)

	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE things (id TEXT PRIMARY KEY, region TEXT, priority REAL, updated TEXT, doc TEXT NOT NULL)`); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, s, doc string) {
		flt, err := ParseFilter(s)
		if err != nil || flt.Validate(&testSchema) != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal([]byte(doc), &m) != nil || m == nil {
			return
		}
		// The store copies scalar column attributes of the right type;
		// a column of another type is outside the semantics of Match.
		for _, a := range testSchema.Attrs {
			if a.Column == "" || a.Column == "id" {
				continue
			}
			switch m[a.Name].(type) {
			case nil:
			case string:
				if a.Type != String && a.Type != Time {
					return
				}
			case float64:
				if a.Type != Number {
					return
				}
			case bool:
				if a.Type != Bool {
					return
				}
			default:
				return
			}
		}
		canon, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`INSERT INTO things (id, region, priority, updated, doc) VALUES ('x', ?, ?, ?, ?)`,
			m["region"], m["priority"], m["updated"], string(canon)); err != nil {
			t.Fatalf("insert %s: %v", canon, err)
		}
		b := Builder{}
		where, err := b.Where(flt, &testSchema)
		if err != nil {
			t.Fatalf("Where(%q): %v", s, err)
		}
		var n int
		if err := tx.QueryRow("SELECT count(*) FROM things WHERE "+where, b.Args...).Scan(&n); err != nil {
			t.Fatalf("Where(%q): %s %v: %v", s, where, b.Args, err)
		}
		if got := flt.Match(&testSchema, m); got != (n == 1) {
			t.Fatalf("filter %s on %s: Match %v, SQLite %v", flt, canon, got, n == 1)
		}
		d := json.NewDecoder(bytes.NewReader(canon))
		d.UseNumber()
		var mn map[string]any
		if err := d.Decode(&mn); err != nil {
			t.Fatal(err)
		}
		if got := flt.Match(&testSchema, mn); got != (n == 1) {
			t.Fatalf("filter %s on %s with json.Number: Match %v, SQLite %v", flt, canon, got, n == 1)
		}
	})
}

// checkMatchSQLite fails t unless Match over the fixture documents selects
// exactly the ids that SQLite returned for flt.
func checkMatchSQLite(t *testing.T, flt Filter, docs map[string]map[string]any, sqlIDs []string) {
	t.Helper()
	sort.Strings(sqlIDs)
	if got := matchIDs(flt, docs); !reflect.DeepEqual(got, sqlIDs) {
		t.Fatalf("filter %s: Match selects %v, SQLite %v", flt, got, sqlIDs)
	}
}
