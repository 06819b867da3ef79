package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

// wantInvalid fails t unless err is an *ims.Error with code EINVALID whose
// message contains every one of parts.
func wantInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want EINVALID mentioning %q", parts)
	}
	var e *ims.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is a %T, want *ims.Error", err, err)
	}
	if e.Code != ims.EINVALID {
		t.Fatalf("error code %q, want %q (%v)", e.Code, ims.EINVALID, err)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("error message %q does not mention %q", e.Message, p)
		}
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want []Term
	}{
		{"", nil},
		{"(eq,name,pool1)", []Term{{Eq, []string{"name"}, []string{"pool1"}}}},
		{"(neq,name,a b)", []Term{{Neq, []string{"name"}, []string{"a b"}}}},
		{"(eq,name,'my pool')", []Term{{Eq, []string{"name"}, []string{"my pool"}}}},
		{"(eq,name,'a,b/c;d(e)f')", []Term{{Eq, []string{"name"}, []string{"a,b/c;d(e)f"}}}},
		{"(eq,name,'it''s')", []Term{{Eq, []string{"name"}, []string{"it's"}}}},
		{"(eq,name,'''')", []Term{{Eq, []string{"name"}, []string{"'"}}}},
		{"(eq,name,'')", []Term{{Eq, []string{"name"}, []string{""}}}},
		{"(eq,name, x )", []Term{{Eq, []string{"name"}, []string{" x "}}}},
		{"(eq,name,a/b;c)", []Term{{Eq, []string{"name"}, []string{"a/b;c"}}}},
		{"(in,name,a,'b,c','',d)", []Term{{In, []string{"name"}, []string{"a", "b,c", "", "d"}}}},
		{"(nin,tags,x)", []Term{{Nin, []string{"tags"}, []string{"x"}}}},
		{"(cont,extensions/site/rack,r1)", []Term{{Cont, []string{"extensions", "site", "rack"}, []string{"r1"}}}},
		{"(gt,capacity,10);(lte,capacity,20);(ncont,name,x)", []Term{
			{Gt, []string{"capacity"}, []string{"10"}},
			{Lte, []string{"capacity"}, []string{"20"}},
			{Ncont, []string{"name"}, []string{"x"}},
		}},
		{"(eq,a,1);(lt,b,2);(gte,c,3);(in,d,4,5)", []Term{
			{Eq, []string{"a"}, []string{"1"}},
			{Lt, []string{"b"}, []string{"2"}},
			{Gte, []string{"c"}, []string{"3"}},
			{In, []string{"d"}, []string{"4", "5"}},
		}},
		// Arity is checked by Validate, not by the parser.
		{"(eq,a,1,2)", []Term{{Eq, []string{"a"}, []string{"1", "2"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(f.Terms, tt.want) {
				t.Fatalf("ParseFilter(%q) = %#v, want %#v", tt.in, f.Terms, tt.want)
			}
			// Rendering and parsing again gives the same filter.
			g, err := ParseFilter(f.String())
			if err != nil || !reflect.DeepEqual(g, f) {
				t.Fatalf("round trip via %q: %#v, %v", f.String(), g, err)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		in    string
		parts []string // each must appear in the message
	}{
		{"eq,name,x", []string{"term 1", `must start with "("`, `"eq,name,x"`}},
		{"(eq,name,x);", []string{"term 2 is empty"}},
		{";(eq,name,x)", []string{"term 1 is empty"}},
		{"(eq,name,x);;(eq,name,y)", []string{"term 2 is empty"}},
		{"()", []string{"term 1", "ends after the operator"}},
		{"(eq)", []string{"term 1", "ends after the operator"}},
		{"(eq,name)", []string{"term 1", "ends after the attribute path"}},
		{"(eq,name,x", []string{`missing ")"`, "term 1"}},
		{"(eq,name,", []string{`missing ")"`, "term 1"}},
		{"(eq,name,x)(eq,name,y)", []string{`unexpected "(eq,name,y)"`, "after term 1"}},
		{"(eq,name,x) ", []string{`unexpected " "`, "after term 1"}},
		{"(eq,name,x);garbage", []string{"term 2", `must start with "("`, `"garbage"`}},
		{"(eqq,name,x)", []string{`unknown operator "eqq"`, "term 1"}},
		{"(EQ,name,x)", []string{`unknown operator "EQ"`}},
		{"(,name,x)", []string{`unknown operator ""`}},
		{"(eq,,x)", []string{"empty attribute path", "term 1"}},
		{"(eq,a//b,x)", []string{"empty segment", `"a//b"`}},
		{"(eq,/a,x)", []string{"empty segment", `"/a"`}},
		{"(eq,a/,x)", []string{"empty segment", `"a/"`}},
		{"(eq,na(me,x)", []string{`unexpected '('`, "attribute path", "term 1"}},
		{"(eq,'name',x)", []string{`unexpected '\''`, "attribute path"}},
		{"(e;q,name,x)", []string{`unexpected ';'`, "operator"}},
		{"(eq,name,)", []string{"empty value", "term 1", "''"}},
		{"(in,name,a,,b)", []string{"empty value", "term 1"}},
		{"(eq,name,a(b)", []string{`unexpected '('`, `"a(b)"`, "term 1"}},
		{"(eq,name,it's)", []string{`unexpected '\''`, `"it's)"`}},
		{"(eq,name,'abc)", []string{"unterminated quoted value", `"'abc)"`}},
		{"(eq,name,'abc''", []string{"unterminated quoted value"}},
		{"(eq,name,'abc'x)", []string{`unexpected "x)"`, `after quoted value "'abc'"`}},
		{"(eq,name,'abc'", []string{`missing ")"`, "term 1"}},
		{"(eq,name,x));(eq,a,b)", []string{`unexpected ");(eq,a,b)"`, "after term 1"}},
		{"(eq,name,x);(eq,a,b", []string{`missing ")"`, "term 2"}},
		{"((eq,name,x))", []string{`unexpected '('`, "operator"}},
		{strings.Repeat("(eq,a,b);", maxTerms) + "(eq,a,b)", []string{"too many terms"}},
		{"(in,a" + strings.Repeat(",v", maxValues+1) + ")", []string{"too many values"}},
		{"(eq," + strings.Repeat("a/", maxPath) + "a,x)", []string{"more than 16 segments"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			wantInvalid(t, err, tt.parts...)
			if f.Terms != nil {
				t.Errorf("ParseFilter returned terms %v with an error", f.Terms)
			}
		})
	}
}

// testSchema is the schema of the tests: one attribute of every kind.
var testSchema = Schema{
	Name:      "thing",
	DocColumn: "doc",
	Attrs: []Attr{
		{Name: "id", Type: String, Column: "id"},
		{Name: "name", Type: String},
		{Name: "region", Type: String, Column: "region"},
		{Name: "capacity", Type: Number},
		{Name: "priority", Type: Number, Column: "priority"},
		{Name: "enabled", Type: Bool},
		{Name: "created", Type: Time},
		{Name: "updated", Type: Time, Column: "updated"},
		{Name: "tags", Type: String, List: true, Complex: true},
		{Name: "ports", Type: Number, List: true, Complex: true},
		{Name: "extensions", Type: Object, Complex: true},
		{Name: "elements", Type: Object, List: true, Complex: true, ExcludedByDefault: true},
		{Name: "description", Type: String, ExcludedByDefault: true},
	},
}

func TestValidate(t *testing.T) {
	valid := []string{
		"",
		"(eq,id,x);(neq,name,y);(gt,region,z);(cont,name,a,b)",
		"(gt,capacity,10);(in,capacity,1,2.5,-3e2);(lte,priority,0x1p4)",
		"(eq,enabled,true);(nin,enabled,false,true)",
		"(gte,created,2024-01-01T00:00:00Z);(lt,updated,2024-01-01T10:00:00.123+02:00)",
		"(cont,tags,x);(in,ports,80,443)",
		"(eq,extensions/site,x);(gt,extensions/a/b/c,3);(cont,elements/name,e);(eq,extensions/a\\b,1)",
		"(eq,extensions/é.x[0],1)",
	}
	for _, in := range valid {
		f, err := ParseFilter(in)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", in, err)
		}
		if err := f.Validate(&testSchema); err != nil {
			t.Errorf("Validate(%q): %v", in, err)
		}
	}

	invalid := []struct {
		in    string
		parts []string
	}{
		{"(eq,fooo,1)", []string{`filter: unknown attribute "fooo" in (eq,fooo,1)`}},
		{"(eq,name/x,1)", []string{`attribute "name" has no sub-attributes`, `"name/x"`, "(eq,name/x,1)"}},
		{"(eq,tags/x,1)", []string{`attribute "tags" has no sub-attributes`}},
		{"(eq,extensions,1)", []string{`attribute "extensions" is an object`, "(eq,extensions,1)"}},
		{"(eq,elements,1)", []string{`attribute "elements" is an object`}},
		{"(eq,name,a,b)", []string{`operator "eq" takes exactly one value, got 2`, "(eq,name,a,b)"}},
		{"(gt,capacity,1,2)", []string{`operator "gt" takes exactly one value`}},
		{"(gt,capacity,ten)", []string{`value "ten" is not a number`, `"capacity"`, "(gt,capacity,ten)"}},
		{"(in,priority,1,x)", []string{`value "x" is not a number`}},
		{"(eq,capacity,NaN)", []string{`value "NaN" is not a number`}},
		{"(eq,capacity,Inf)", []string{`value "Inf" is not a number`}},
		{"(eq,capacity,1e999)", []string{`value "1e999" is not a number`}},
		{"(eq,capacity,'')", []string{`value "" is not a number`}},
		{"(cont,capacity,1)", []string{`operator "cont" applies to strings only`, `"capacity" is a number`}},
		{"(ncont,ports,1)", []string{`operator "ncont" applies to strings only`}},
		{"(cont,enabled,true)", []string{`operator "cont" applies to strings only`}},
		{"(cont,created,2024-01-01T00:00:00Z)", []string{`operator "cont" applies to strings only`, "date-time"}},
		{"(eq,enabled,yes)", []string{`value "yes" is not a boolean`}},
		{"(eq,enabled,True)", []string{`value "True" is not a boolean`}},
		{"(gt,enabled,true)", []string{`operator "gt" does not apply to booleans`}},
		{"(lte,enabled,false)", []string{`operator "lte" does not apply to booleans`}},
		{"(gt,created,yesterday)", []string{`value "yesterday" is not an RFC 3339 date-time`, `"created"`}},
		{"(eq,updated,2024-01-01)", []string{`value "2024-01-01" is not an RFC 3339 date-time`}},
		{"(eq,updated,9999-12-31T23:00:00-05:00)", []string{"is not an RFC 3339 date-time"}},
		{"(eq,extensions/a\"b,1)", []string{`segment "a\"b"`, "double quote"}},
		{"(eq,extensions/a\x01b,1)", []string{"control character"}},
		{"(eq,name,a\x00b)", []string{"is not valid text"}},
		{"(eq,name,\xff)", []string{"is not valid text"}},
	}
	for _, tt := range invalid {
		t.Run(tt.in, func(t *testing.T) {
			f, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			wantInvalid(t, f.Validate(&testSchema), tt.parts...)
			var b Builder
			if _, err := b.Where(f, &testSchema); err == nil {
				t.Errorf("Where accepted %q", tt.in)
			}
			if len(b.Args) != 0 {
				t.Errorf("Where added arguments %v despite the error", b.Args)
			}
		})
	}

	// Filters built in code are checked as thoroughly as parsed ones.
	built := []struct {
		f     Filter
		parts []string
	}{
		{Filter{Terms: []Term{{Op: "like", Path: []string{"name"}, Values: []string{"x"}}}}, []string{`unknown operator "like"`}},
		{Filter{Terms: []Term{{Op: Eq, Values: []string{"x"}}}}, []string{"empty attribute path"}},
		{Filter{Terms: []Term{{Op: Eq, Path: []string{"extensions", ""}, Values: []string{"x"}}}}, []string{`segment "" is empty`}},
		{Filter{Terms: []Term{{Op: In, Path: []string{"name"}}}}, []string{`operator "in" takes at least one value`}},
		{Filter{Terms: []Term{{Op: Eq, Path: []string{"name"}}}}, []string{`operator "eq" takes exactly one value, got 0`}},
	}
	for _, tt := range built {
		wantInvalid(t, tt.f.Validate(&testSchema), tt.parts...)
	}

	if err := (Filter{}).Validate(nil); ims.ErrorCode(err) != ims.EINTERNAL {
		t.Errorf("Validate(nil) = %v, want an internal error", err)
	}
}

func BenchmarkParseFilter(b *testing.B) {
	const in = "(eq,name,'my pool');(in,region,eu-west,eu-north,'us, east');(gt,capacity,10);(cont,extensions/site/rack,r1)"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter(in); err != nil {
			b.Fatal(err)
		}
	}
}
