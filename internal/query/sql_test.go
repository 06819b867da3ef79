package query

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// testDocs are the documents of the semantic tests, keyed by id. The store
// copies id, region, priority and updated into columns; the rest lives only
// in the document. Some documents deliberately hold values of the wrong
// JSON type (j) to show that typed comparisons ignore them.
var testDocs = map[string]string{
	"a": `{"id":"a","name":"alpha","region":"eu-west","capacity":10,"priority":1,"enabled":true,
		"created":"2024-01-01T00:00:00.000000Z","updated":"2024-03-01T10:00:00.000000Z",
		"tags":["edge","gpu"],"ports":[80,443],
		"extensions":{"site":"paris","rack":"r1","floor":3,"cost":"10","labels":["blue","green"],"managed":true,"nested":{"k":"v"}},
		"elements":[{"name":"e1","slot":1},{"name":"e2","slot":2}],"description":"First pool"}`,
	"b": `{"id":"b","name":"beta","region":"eu-north","capacity":9,"priority":2,"enabled":false,
		"created":"2024-06-15T12:30:00.000000Z","updated":"2024-03-02T00:00:00.000000Z",
		"tags":["core"],"ports":[22],
		"extensions":{"site":"berlin","floor":10,"cost":"9","labels":"blue"},
		"elements":[{"name":"e3","slot":10}]}`,
	"c": `{"id":"c","name":"my pool","region":"us-east","capacity":100,"priority":10,"enabled":true,
		"created":"2023-12-31T23:59:59.999999Z","updated":"2024-02-29T23:59:59.999999Z",
		"tags":[],"extensions":{"site":"new york, ny","floor":"2"},"elements":[]}`,
	"d": `{"id":"d","name":"it's","region":"us-west","capacity":2.5,"extensions":{}}`,
	"e": `{"id":"e","name":"Alpha","region":"eu-west","capacity":-1,"priority":5,"enabled":false,
		"updated":"2024-03-01T10:00:00.000001Z","tags":["EDGE"],"ports":[8080],
		"extensions":{"site":null,"floor":[1,20],"managed":false,"rack":{"id":"r2"}}}`,
	"f": `{"id":"f","name":"a,b/c;(d)","region":"ap-south","capacity":1e3,"tags":["x y"],
		"extensions":{"labels":["red",5,true],"a.b":"dot","x\\y":"bs","é":"acc","[0]":"br","0":"zero"}}`,
	"g": `{"id":"g"}`,
	"h": `{"id":"h","name":"","region":"","capacity":0,"priority":0,"enabled":true,"tags":["",""],
		"extensions":{"site":""},"elements":[{"name":"e1"},"junk",5]}`,
	"i": `{"id":"i","name":"gamma","region":"eu-west","capacity":10.0,"priority":10.5,
		"created":"2024-06-15T12:30:00.000001Z","tags":["gpu"],"ports":[443],
		"extensions":{"cost":10,"site":"paris"}}`,
	"j": `{"id":"j","name":null,"region":"us-east","capacity":"12","priority":3,"tags":"gpu",
		"extensions":{"site":["lyon","paris"],"floor":9}}`,
}

// allBut returns the ids of testDocs except those given, sorted.
func allBut(except ...string) []string {
	var ids []string
	for _, id := range strings.Split("a b c d e f g h i j", " ") {
		skip := false
		for _, x := range except {
			skip = skip || x == id
		}
		if !skip {
			ids = append(ids, id)
		}
	}
	return ids
}

// ids splits a space-separated list of ids; "" is the empty set.
func ids(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

// semanticTests are run unchanged against SQLite and PostgreSQL.
var semanticTests = []struct {
	filter string
	want   []string
}{
	{"", allBut()},

	// Strings in the document.
	{"(eq,name,alpha)", ids("a")},
	{"(neq,name,alpha)", allBut("a")}, // g (missing) and j (null) match neq
	{"(eq,name,'my pool')", ids("c")},
	{"(eq,name,'it''s')", ids("d")},
	{"(eq,name,'a,b/c;(d)')", ids("f")},
	{"(eq,name,'')", ids("h")},
	{"(neq,name,'')", allBut("h")},
	{"(in,name,alpha,Alpha,beta)", ids("a b e")},
	{"(nin,name,alpha,Alpha,beta)", ids("c d f g h i j")},
	{"(cont,name,lph)", ids("a e")},
	{"(cont,name,Alph)", ids("e")},
	{"(ncont,name,a)", ids("c d g h j")},
	{"(cont,name,x,pool)", ids("c")},
	{"(gt,name,beta)", ids("c d i")},
	{"(lt,name,B)", ids("e h")}, // byte-wise: upper case sorts first
	{"(gte,name,gamma)", ids("c d i")},
	{"(lte,name,Alpha)", ids("e h")},
	{"(lt,name,'')", ids("")},
	{"(cont,name,'')", ids("a b c d e f h i")}, // every string contains ""
	{"(ncont,name,'')", ids("g j")},

	// Strings in a column.
	{"(eq,region,eu-west)", ids("a e i")},
	{"(neq,region,eu-west)", ids("b c d f g h j")},
	{"(in,region,us-east,us-west)", ids("c d j")},
	{"(gt,region,eu-west)", ids("c d j")},
	{"(cont,region,west)", ids("a d e i")},
	{"(ncont,region,-)", ids("g h")},
	{"(lt,region,B)", ids("h")},
	{"(eq,id,a)", ids("a")},

	// Numbers in the document, compared numerically.
	{"(gt,capacity,9)", ids("a c f i")},
	{"(lt,capacity,10)", ids("b d e h")},
	{"(eq,capacity,10)", ids("a i")},
	{"(eq,capacity,1e1)", ids("a i")},
	{"(gte,capacity,100)", ids("c f")},
	{"(lte,capacity,-1)", ids("e")},
	{"(in,capacity,2.5,1000,12)", ids("d f")}, // j's "12" is a string
	{"(nin,capacity,10,9)", ids("c d e f g h j")},
	{"(neq,capacity,0)", allBut("h")},

	// Numbers in a column.
	{"(gt,priority,9)", ids("c i")},
	{"(lte,priority,2)", ids("a b h")},
	{"(neq,priority,10)", allBut("c")},
	{"(in,priority,10.5,5)", ids("e i")},

	// Booleans.
	{"(eq,enabled,true)", ids("a c h")},
	{"(eq,enabled,false)", ids("b e")},
	{"(neq,enabled,true)", ids("b d e f g i j")},
	{"(in,enabled,true,false)", ids("a b c e h")},
	{"(nin,enabled,true,false)", ids("d f g i j")},

	// Times in the document, normalised to UTC microseconds.
	{"(gt,created,2024-01-01T00:00:00Z)", ids("b i")},
	{"(gte,created,2024-01-01T00:00:00Z)", ids("a b i")},
	{"(lt,created,2024-01-01T01:00:00+01:00)", ids("c")},
	{"(eq,created,2024-06-15T14:30:00.000001+02:00)", ids("i")},
	{"(lte,created,2024-06-15T12:30:00Z)", ids("a b c")},
	{"(neq,created,2024-01-01T00:00:00Z)", allBut("a")},
	{"(in,created,2024-01-01T00:00:00.000Z,2023-12-31T23:59:59.999999Z)", ids("a c")},

	// Times in a column.
	{"(gt,updated,2024-03-01T10:00:00Z)", ids("b e")},
	{"(lt,updated,2024-03-01T00:00:00Z)", ids("c")},
	{"(neq,updated,2024-03-01T10:00:00Z)", allBut("a")},

	// Lists: positive operators match when any element does.
	{"(eq,tags,gpu)", ids("a i j")}, // j holds a bare string
	{"(neq,tags,gpu)", ids("b c d e f g h")},
	{"(in,tags,core,EDGE)", ids("b e")},
	{"(nin,tags,edge,gpu)", ids("b c d e f g h")},
	{"(cont,tags,dg)", ids("a")},
	{"(ncont,tags,g)", ids("b c d e f g h")},
	{"(eq,tags,'x y')", ids("f")},
	{"(eq,tags,'')", ids("h")},
	{"(gt,tags,f)", ids("a f i j")},
	{"(eq,ports,443)", ids("a i")},
	{"(gt,ports,1000)", ids("e")},
	{"(lt,ports,80)", ids("b")},
	{"(nin,ports,80,443)", ids("b c d e f g h j")},
	{"(in,ports,22,8080)", ids("b e")},
	{"(lt,ports,'1e2')", ids("a b")},

	// Free-form objects: the stored JSON type decides.
	{"(eq,extensions/site,paris)", ids("a i j")},
	{"(neq,extensions/site,paris)", ids("b c d e f g h")},
	{"(eq,extensions/site,'new york, ny')", ids("c")},
	{"(cont,extensions/site,ar)", ids("a i j")},
	{"(ncont,extensions/site,ar)", ids("b c d e f g h")},
	{"(eq,extensions/floor,10)", ids("b")},
	{"(gt,extensions/floor,9)", ids("b e")},
	{"(lt,extensions/floor,5)", ids("a c e")}, // c's "2" is a string: "2" < "5"
	{"(gt,extensions/cost,9)", ids("i")},      // 10 > 9, but "10" < "9"
	{"(eq,extensions/cost,10)", ids("a i")},
	{"(eq,extensions/labels,blue)", ids("a b")},
	{"(eq,extensions/labels,5)", ids("f")},
	{"(eq,extensions/labels,true)", ids("f")},
	{"(in,extensions/managed,x,false)", ids("e")},
	{"(gt,extensions/managed,a)", ids("")}, // booleans only match eq and in
	{"(cont,extensions/managed,ru)", ids("")},
	{"(nin,extensions/managed,true,false)", allBut("a", "e")},
	{"(eq,extensions/managed,true)", ids("a")},
	{"(eq,extensions/managed,false)", ids("e")},
	{"(neq,extensions/managed,true)", allBut("a")},
	{"(eq,extensions/rack,r1)", ids("a")},
	{"(eq,extensions/rack/id,r2)", ids("e")},
	{"(eq,extensions/nested,v)", ids("")}, // an object is not its members
	{"(eq,extensions/nested/k,v)", ids("a")},
	{"(eq,extensions/site,'')", ids("h")},
	{"(neq,extensions/site,'')", allBut("h")},
	{"(in,extensions/floor,2,9,x)", ids("c j")},
	{"(cont,extensions/floor,1)", ids("")}, // cont applies to strings only
	{"(eq,extensions/missing/deep,x)", ids("")},
	{"(neq,extensions/missing/deep,x)", allBut()},
	{"(gt,extensions/site,m)", ids("a c i j")},
	{"(eq,extensions/labels/0,blue)", ids("")}, // paths never index arrays
	{"(eq,extensions/a.b,dot)", ids("f")},      // keys are literal in JSON paths
	{"(eq,extensions/x\\y,bs)", ids("f")},
	{"(eq,extensions/é,acc)", ids("f")},
	{"(eq,extensions/[0],br)", ids("f")},
	{"(eq,extensions/0,zero)", ids("f")},
	{"(in,extensions/labels,red,true)", ids("f")},
	{"(nin,extensions/labels,5,blue)", ids("c d e g h i j")},
	{"(lte,extensions/labels,5)", ids("f")},     // "blue" > "5" byte-wise
	{"(gte,extensions/floor,10)", ids("b c e")}, // c's "2" >= "10" byte-wise
	{"(eq,extensions/floor,1)", ids("e")},
	{"(cont,extensions/rack,r)", ids("a")}, // e's rack is an object
	{"(eq,extensions/site/x,paris)", ids("")},

	// Arrays of free-form objects.
	{"(eq,elements/name,e1)", ids("a h")},
	{"(eq,elements/slot,10)", ids("b")},
	{"(gt,elements/slot,1)", ids("a b")},
	{"(neq,elements/name,e1)", allBut("a", "h")},
	{"(cont,elements/name,3)", ids("b")},
	{"(eq,elements/slot,2);(eq,elements/name,e1)", ids("a")},
	{"(eq,elements/name,junk)", ids("")}, // only object elements count

	// Conjunctions.
	{"(eq,region,eu-west);(gt,capacity,0)", ids("a i")},
	{"(eq,enabled,true);(cont,tags,g)", ids("a")},
	{"(neq,name,alpha);(nin,region,eu-west,us-east);(lt,capacity,100)", ids("b d h")},
	{"(eq,enabled,true);(neq,enabled,true)", ids("")},
}

// setupDB creates a table holding testDocs and returns a function that
// runs a filter and returns the matching ids, sorted.
type runFunc func(t *testing.T, f Filter) []string

func TestWhereSQLite(t *testing.T) {
	run := sqliteTable(t, &testSchema)
	runSemantic(t, run)
}

func TestWherePostgres(t *testing.T) {
	run := postgresTable(t, &testSchema)
	runSemantic(t, run)
}

// indexedSchema is testSchema with the store's filter indexes declared
// (as the inventory declares them for resources), so that Where adds its
// index hints; the semantic table must give the same results.
var indexedSchema = func() Schema {
	s := testSchema
	s.Name = "things"
	s.Attrs = append([]Attr(nil), testSchema.Attrs...)
	for i := range s.Attrs {
		if s.Attrs[i].Name == "tags" {
			s.Attrs[i].ElementTable = "thing_tags"
		}
	}
	for _, k := range []string{"floor", "cost", "site", "labels", "managed", "rack", "nested"} {
		s.IndexedPaths = append(s.IndexedPaths, []string{"extensions", k})
	}
	return s
}()

func TestWhereSQLiteIndexed(t *testing.T) {
	runSemantic(t, sqliteTable(t, &indexedSchema))
}

// TestWhereSQLiteNarrowRanges runs the semantic table with the range
// hints written as membership tests, as the store writes them when its
// probes find the ranges narrow.
func TestWhereSQLiteNarrowRanges(t *testing.T) {
	runSemantic(t, sqliteTable(t, &narrowSchema))
}

// narrowSchema is indexedSchema, listed with Builder.NarrowRanges.
var narrowSchema = indexedSchema

func TestWherePostgresIndexed(t *testing.T) {
	runSemantic(t, postgresTable(t, &indexedSchema))
}

// sqliteIndexes are the side table, triggers and indexes of
// indexedSchema, written as migration 00013 writes them for resources.
var sqliteIndexes = []string{
	`CREATE TABLE thing_tags (value TEXT NOT NULL, object_id TEXT NOT NULL, PRIMARY KEY (value, object_id)) WITHOUT ROWID`,
	`CREATE TRIGGER thing_tags_insert AFTER INSERT ON things BEGIN
		INSERT OR IGNORE INTO thing_tags (value, object_id)
			SELECT e.value, NEW.id FROM json_each(NEW.doc, '$."tags"') e
			WHERE e.type = 'text' AND typeof(e.key) <> 'text';
	END`,
	`CREATE INDEX things_floor ON things (json_extract(doc, '$."extensions"."floor"'), id)`,
	`CREATE INDEX things_cost ON things (json_extract(doc, '$."extensions"."cost"'), id)`,
}

// postgresIndexes are the indexes of indexedSchema in PostgreSQL; table
// is the qualified table name.
func postgresIndexes(table string) []string {
	tags := strings.TrimSuffix(table, "things") + "thing_tags"
	return []string{
		`CREATE TABLE ` + tags + ` (value TEXT COLLATE "C" NOT NULL, object_id TEXT COLLATE "C" NOT NULL, PRIMARY KEY (value, object_id))`,
		`CREATE FUNCTION ` + tags + `_sync() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO ` + tags + ` (value, object_id)
				SELECT e.v #>> '{}', NEW.id
				FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.doc -> 'tags') = 'array' THEN NEW.doc -> 'tags' ELSE jsonb_build_array(NEW.doc -> 'tags') END) AS e(v)
				WHERE jsonb_typeof(e.v) = 'string'
				ON CONFLICT DO NOTHING;
			RETURN NULL;
		END
		$$`,
		`CREATE TRIGGER thing_tags_sync AFTER INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION ` + tags + `_sync()`,
		`CREATE INDEX ON ` + table + ` USING gin ((doc -> 'tags'))`,
		`CREATE INDEX ON ` + table + ` ((doc -> 'extensions' -> 'floor'))`,
		`CREATE INDEX ON ` + table + ` (jsonb_typeof(doc -> 'extensions' -> 'floor'))`,
	}
}

// runSemantic runs every semantic test through run and checks the result,
// and that Filter.Match selects exactly the same documents as the SQL.
func runSemantic(t *testing.T, run runFunc) {
	docs := decodedDocs(t)
	for _, tt := range semanticTests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			got := run(t, f)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("filter %s matched %v, want %v", tt.filter, got, tt.want)
			}
			if m := matchIDs(f, docs); !reflect.DeepEqual(m, got) {
				t.Errorf("filter %s: Match selects %v, the SQL %v", tt.filter, m, got)
			}
		})
	}
}

// sqliteTable loads testDocs into an in-memory SQLite database.
func sqliteTable(t testing.TB, sc *Schema) runFunc {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	// Every connection to ":memory:" is a database of its own.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, `CREATE TABLE things (id TEXT PRIMARY KEY, region TEXT, priority REAL, updated TEXT, doc TEXT NOT NULL)`)
	if sc == &indexedSchema || sc == &narrowSchema {
		for _, q := range sqliteIndexes {
			mustExec(t, db, q)
		}
	}
	insertDocs(t, db, "things", SQLite)
	return selectFunc(db, "things", SQLite, sc)
}

// postgresTable loads testDocs into a table of a schema of its own in the
// PostgreSQL database named by O2IMS_TEST_DATABASE_URL.
func postgresTable(t testing.TB, sc *Schema) runFunc {
	url, set := os.LookupEnv("O2IMS_TEST_DATABASE_URL")
	if !set || url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := sql.Open("pgx", url)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if set {
			t.Fatalf("O2IMS_TEST_DATABASE_URL is set but PostgreSQL is unreachable: %v", err)
		}
		t.Skipf("PostgreSQL not reachable at the default %s (%v); set O2IMS_TEST_DATABASE_URL to run this test", url, err)
	}
	schema := fmt.Sprintf("query_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	mustExec(t, db, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		db.Close()
	})
	table := schema + ".things"
	mustExec(t, db, `CREATE TABLE `+table+` (id TEXT PRIMARY KEY, region TEXT, priority NUMERIC, updated TEXT, doc JSONB NOT NULL)`)
	if sc == &indexedSchema {
		for _, q := range postgresIndexes(table) {
			mustExec(t, db, q)
		}
		// The tables are in a schema of their own: qualify them.
		q := *sc
		q.Name = table
		q.Attrs = slices.Clone(sc.Attrs)
		for i := range q.Attrs {
			if q.Attrs[i].ElementTable != "" {
				q.Attrs[i].ElementTable = schema + "." + q.Attrs[i].ElementTable
			}
		}
		sc = &q
	}
	insertDocs(t, db, table, Postgres)
	return selectFunc(db, table, Postgres, sc)
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// insertDocs writes testDocs, copying the column-backed attributes out of
// each document as the store does.
func insertDocs(t testing.TB, db *sql.DB, table string, d Dialect) {
	for id, doc := range testDocs {
		var m map[string]any
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("document %s: %v", id, err)
		}
		b := Builder{Dialect: d}
		q := fmt.Sprintf("INSERT INTO %s (id, region, priority, updated, doc) VALUES (%s, %s, %s, %s, %s)",
			table, b.Arg(id), b.Arg(m["region"]), b.Arg(m["priority"]), b.Arg(m["updated"]), b.Arg(doc))
		mustExec(t, db, q, b.Args...)
	}
}

// selectFunc returns a runFunc over table.
func selectFunc(db *sql.DB, table string, d Dialect, sc *Schema) runFunc {
	return func(t *testing.T, f Filter) []string {
		t.Helper()
		b := Builder{Dialect: d, NarrowRanges: sc == &narrowSchema}
		// As the store lists: through the element table when Drive
		// offers one.
		from, key, ok := b.Drive(f, sc)
		if !ok {
			from, key = table, "id"
		}
		where, err := b.Where(f, sc)
		if err != nil {
			t.Fatalf("Where: %v", err)
		}
		q := "SELECT " + key + " FROM " + from + " WHERE " + where + " ORDER BY " + key
		rows, err := db.Query(q, b.Args...)
		if err != nil {
			t.Fatalf("%s %v: %v", q, b.Args, err)
		}
		defer rows.Close()
		got := []string{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s %v: %v", q, b.Args, err)
		}
		return got
	}
}

func TestBuilder(t *testing.T) {
	// Placeholders continue the numbering of arguments added before.
	b := Builder{Dialect: Postgres}
	if p := b.Arg("x"); p != "$1" {
		t.Fatalf("Arg = %q, want $1", p)
	}
	f, _ := ParseFilter("(eq,region,eu-west)")
	where, err := b.Where(f, &testSchema)
	if err != nil {
		t.Fatal(err)
	}
	// The column's index hint repeats the value: $3.
	if !strings.Contains(where, "region = $2") || !strings.Contains(where, "region = $3") || len(b.Args) != 3 {
		t.Errorf("Where = %q with %v", where, b.Args)
	}

	// Values and paths never appear in the SQL text.
	for _, d := range []Dialect{SQLite, Postgres} {
		f, _ := ParseFilter("(eq,extensions/x'y,'a''; DROP TABLE t')")
		b := Builder{Dialect: d}
		where, err := b.Where(f, &testSchema)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(where, "DROP") || strings.Contains(where, "x'y") {
			t.Errorf("dialect %d: value spliced into %q", d, where)
		}
	}

	for d, want := range map[Dialect]string{SQLite: "1=1", Postgres: "TRUE"} {
		b := Builder{Dialect: d}
		if got, err := b.Where(Filter{}, &testSchema); got != want || err != nil {
			t.Errorf("empty filter: %q, %v; want %q", got, err, want)
		}
	}

	b = Builder{Dialect: 7}
	if _, err := b.Where(Filter{}, &testSchema); err == nil {
		t.Error("Where accepted an unknown dialect")
	}
}
