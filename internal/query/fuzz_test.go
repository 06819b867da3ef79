package query

import (
	"database/sql"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

func FuzzParseFilter(f *testing.F) {
	for _, tt := range semanticTests {
		f.Add(tt.filter)
	}
	for _, s := range []string{
		"(eq,name,'a''b')", "(in,name,'',x,'y,z')", "(eq,extensions/a\\b/c,1)", "(eq,extensions/0,1)",
		"(gt,capacity,0x1p4)", "(eq,created,2024-02-29T23:59:60Z)", "(eq,name,'abc", "(eq,name,x)(",
		"(eq,,x)", "(eq,a//b,x)", "((", ")", ";", "(eq,name,x);", "(eq,name,'x'y)", "(eq,name,\x00)",
		"(eq,extensions/\"x,1)", "(cont,capacity,1)", "(gt,enabled,true)", "(eq,elements/a/b,'')",
	} {
		f.Add(s)
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE things (id TEXT PRIMARY KEY, region TEXT, priority REAL, updated TEXT, doc TEXT NOT NULL)`); err != nil {
		f.Fatal(err)
	}
	insertDocs(f, db, "things", SQLite)
	docs := decodedDocs(f)

	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			if ims.ErrorCode(err) != ims.EINVALID {
				t.Fatalf("ParseFilter(%q): %v is not EINVALID", s, err)
			}
			return
		}
		again, err := ParseFilter(flt.String())
		if err != nil || !reflect.DeepEqual(again, flt) {
			t.Fatalf("ParseFilter(%q) renders as %q, which parses as %#v, %v", s, flt.String(), again, err)
		}
		if err := flt.Validate(&testSchema); err != nil {
			if ims.ErrorCode(err) != ims.EINVALID {
				t.Fatalf("Validate(%q): %v is not EINVALID", s, err)
			}
			return
		}
		b := Builder{Dialect: Postgres}
		where, err := b.Where(flt, &testSchema)
		if err != nil {
			t.Fatalf("Where(%q) for PostgreSQL: %v", s, err)
		}
		// PostgreSQL refuses parameters it cannot type, so every argument
		// must be referred to.
		used := make([]bool, len(b.Args))
		for _, m := range placeholder.FindAllStringSubmatch(where, -1) {
			n, _ := strconv.Atoi(m[1])
			if n < 1 || n > len(b.Args) {
				t.Fatalf("Where(%q) refers to $%d of %d arguments: %s", s, n, len(b.Args), where)
			}
			used[n-1] = true
		}
		for i, u := range used {
			if !u {
				t.Fatalf("Where(%q) leaves $%d unused: %s", s, i+1, where)
			}
		}

		b = Builder{}
		where, err = b.Where(flt, &testSchema)
		if err != nil {
			t.Fatalf("Where(%q) for SQLite: %v", s, err)
		}
		if n := strings.Count(where, "?"); n != len(b.Args) {
			t.Fatalf("Where(%q) has %d placeholders for %d arguments: %s", s, n, len(b.Args), where)
		}
		rows, err := db.Query("SELECT id FROM things WHERE "+where, b.Args...)
		if err != nil {
			t.Fatalf("Where(%q): %s %v: %v", s, where, b.Args, err)
		}
		sqlIDs := []string{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			sqlIDs = append(sqlIDs, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("Where(%q): %s %v: %v", s, where, b.Args, err)
		}
		rows.Close()
		// Filter.Match agrees with the SQL over the same documents.
		checkMatchSQLite(t, flt, docs, sqlIDs)
	})
}

func FuzzParseSelection(f *testing.F) {
	f.Add("", "", false, false)
	f.Add("", "", true, false)
	f.Add("", "", false, true)
	f.Add("name,extensions/country", "", false, false)
	f.Add("elements/name,extensions/nested/a", "", false, true)
	f.Add("", "tags,extensions/site,elements/slot", false, false)
	f.Add("extensions//a", "", false, false)
	f.Add("name,", "tags", true, true)
	f.Add("foo/bar", "", false, false)
	f.Fuzz(func(t *testing.T, fields, excl string, all, exclDefault bool) {
		sel, err := ParseSelection(&testSchema, fields, excl, all, exclDefault)
		if err != nil {
			if ims.ErrorCode(err) != ims.EINVALID {
				t.Fatalf("ParseSelection(%q, %q, %v, %v): %v is not EINVALID", fields, excl, all, exclDefault, err)
			}
			return
		}
		doc := decode(t, selDoc)
		got := sel.Apply(doc)
		if !reflect.DeepEqual(doc, decode(t, selDoc)) {
			t.Fatalf("Apply modified its input")
		}
		// A projection keeps what it selects, so applying it twice
		// changes nothing more.
		if twice := sel.Apply(got); !reflect.DeepEqual(twice, got) {
			t.Fatalf("Apply is not idempotent: %v, then %v", got, twice)
		}
	})
}
