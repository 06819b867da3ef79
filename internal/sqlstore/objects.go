package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Object tables follow one shape: the primary key column "id", the owning
// "source" (provider name), "doc_hash", the JSON document in the schema's
// DocColumn, and one column per schema attribute that names a Column.

// Doc is one object to store: its identifier and its JSON representation.
type Doc struct {
	ID   string
	JSON json.RawMessage
}

// ObjectSet is the complete set of objects of one kind that a source owns.
type ObjectSet struct {
	Schema *query.Schema
	Docs   []Doc
}

// Op is the kind of change applied to an object.
type Op int

// Change operations, numbered as O2ims notificationEventType.
const (
	OpCreate Op = 0
	OpModify Op = 1
	OpDelete Op = 2
)

// Change records one object changed by ApplySnapshot.
type Change struct {
	Schema *query.Schema
	ID     string
	Op     Op
	Prior  json.RawMessage // modify, delete
	Post   json.RawMessage // create, modify
}

// List returns up to limit objects of the schema's table matching f, ordered
// by id, starting after the id "after" (keyset paging). more tells whether
// further objects exist.
func (s *Store) List(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) (docs []json.RawMessage, lastID string, more bool, err error) {
	ctx, span := s.span(ctx, "SELECT", sc.Name)
	defer func() { tracing.End(span, err) }()
	narrow, err := s.narrowRanges(ctx, sc, f)
	if err != nil {
		return nil, "", false, err
	}
	q, args, err := s.listSQL(sc, f, limit, after, narrow)
	if err != nil {
		return nil, "", false, err
	}
	if s.dialect == query.Postgres {
		// pgx prepares and caches statements by default, and after five
		// runs PostgreSQL may plan a prepared statement once for any
		// values: such a generic plan cannot tell a filter value that
		// every row matches from one that few rows match (a tag, a
		// range of a JSON attribute), and reads the wrong index for one
		// of them. An unnamed statement is planned for its values.
		args = append([]any{pgx.QueryExecModeDescribeExec}, args...)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", false, ims.Internal(fmt.Errorf("list %s: %w", sc.Name, err), "listing failed")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, "", false, ims.Internal(fmt.Errorf("scan %s: %w", sc.Name, err), "listing failed")
		}
		if len(docs) == limit {
			more = true
			break
		}
		docs = append(docs, json.RawMessage(doc))
		lastID = id
	}
	if err := rows.Err(); err != nil {
		return nil, "", false, ims.Internal(fmt.Errorf("list %s: %w", sc.Name, err), "listing failed")
	}
	return docs, lastID, more, nil
}

// narrowRangeRows is the most rows a range filter on an indexed JSON path
// may match for a page to be read through its index (SQLite): sorting
// that many ids is cheaper than scanning the table for a page of them.
const narrowRangeRows = 10000

// narrowRanges runs the range probes of f (query.RangeProbes) and tells
// whether every range is narrow enough to be read through its index.
func (s *Store) narrowRanges(ctx context.Context, sc *query.Schema, f query.Filter) (bool, error) {
	probes := query.RangeProbes(s.dialect, f, sc, narrowRangeRows)
	for _, p := range probes {
		var n int
		if err := s.db.QueryRowContext(ctx, p.SQL, p.Args...).Scan(&n); err != nil {
			return false, ims.Internal(fmt.Errorf("probe %s: %w", sc.Name, err), "listing failed")
		}
		if n > narrowRangeRows {
			return false, nil
		}
	}
	return len(probes) > 0, nil
}

// listSQL is the statement of List and its arguments.
func (s *Store) listSQL(sc *query.Schema, f query.Filter, limit int, after string, narrow bool) (string, []any, error) {
	b := query.Builder{Dialect: s.dialect, NarrowRanges: narrow}
	from, key, ok := b.Drive(f, sc)
	if !ok {
		from, key = sc.Name, sc.Name+".id"
	}
	where, err := b.Where(f, sc)
	if err != nil {
		return "", nil, err
	}
	q := fmt.Sprintf("SELECT %s.id, %s.%s FROM %s WHERE (%s)%s", sc.Name, sc.Name, sc.DocColumn, from, where, scope(sc))
	if after != "" {
		q += " AND " + key + " > " + b.Arg(after)
	}
	q += " ORDER BY " + key + " LIMIT " + b.Arg(limit+1)
	return q, b.Args, nil
}

// ExplainList returns the database's plan for the statement List runs
// with these arguments (EXPLAIN QUERY PLAN in SQLite, EXPLAIN ANALYZE in
// PostgreSQL, which runs it), one line per plan step, for benchmark
// notes and diagnosis.
func (s *Store) ExplainList(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]string, error) {
	narrow, err := s.narrowRanges(ctx, sc, f)
	if err != nil {
		return nil, err
	}
	q, args, err := s.listSQL(sc, f, limit, after, narrow)
	if err != nil {
		return nil, err
	}
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == query.Postgres {
		prefix = "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) "
	}
	rows, err := s.db.QueryContext(ctx, prefix+q, args...)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", sc.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return plan, rows.Err()
}

// Get returns the JSON document of one object, or an ENOTFOUND error.
func (s *Store) Get(ctx context.Context, sc *query.Schema, id string) (_ json.RawMessage, err error) {
	ctx, span := s.span(ctx, "SELECT", sc.Name)
	defer func() { tracing.End(span, err) }()
	var doc []byte
	q := s.rebind(fmt.Sprintf("SELECT %s FROM %s WHERE id = ?%s", sc.DocColumn, sc.Name, scope(sc)))
	if stmt, perr := s.getStmt(ctx, q); perr == nil && stmt != nil {
		err = stmt.QueryRowContext(ctx, id).Scan(&doc)
	} else {
		err = s.db.QueryRowContext(ctx, q, id).Scan(&doc)
	}
	if isNoRows(err) {
		return nil, ims.Errorf(ims.ENOTFOUND, "%s %q not found", sc.Object, id)
	}
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("get %s %s: %w", sc.Name, id, err), "reading failed")
	}
	return json.RawMessage(doc), nil
}

// getStmt returns the prepared statement of q for Get in SQLite, or nil
// (PostgreSQL, whose driver caches prepared statements itself).
func (s *Store) getStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s.dialect != query.SQLite {
		return nil, nil
	}
	if v, ok := s.gets.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	stmt, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.gets.LoadOrStore(q, stmt); loaded {
		_ = stmt.Close()
		return v.(*sql.Stmt), nil
	}
	return stmt, nil
}

// Count returns the number of objects in the schema's table.
func (s *Store) Count(ctx context.Context, sc *query.Schema) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+sc.Name+" WHERE 1=1"+scope(sc)).Scan(&n); err != nil {
		return 0, ims.Internal(fmt.Errorf("count %s: %w", sc.Name, err), "counting failed")
	}
	return n, nil
}

// ApplySnapshot makes the objects owned by source exactly those in sets, in
// one transaction: new objects are inserted, changed ones updated, and
// objects of the same kinds that source no longer reports are deleted. The
// same transaction appends one inventory event per change to the outbox.
// It returns what changed; an unchanged snapshot changes nothing.
func (s *Store) ApplySnapshot(ctx context.Context, source string, sets []ObjectSet) (_ []Change, err error) {
	ctx, span := s.span(ctx, "APPLY SNAPSHOT", source)
	defer func() { tracing.End(span, err) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("begin: %w", err), "storing inventory failed")
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var changes []Change
	for _, set := range sets {
		c, err := s.applySet(ctx, tx, source, set)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c...)
	}
	events := make([]Event, 0, len(changes))
	for _, c := range changes {
		events = append(events, Event{Stream: StreamInventory, ObjectType: c.Schema.Name, ObjectID: c.ID, EventType: int(c.Op), Prior: c.Prior, Post: c.Post})
	}
	if err := s.insertEvents(ctx, tx, events); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, ims.Internal(fmt.Errorf("commit: %w", err), "storing inventory failed")
	}
	return changes, nil
}

type storedDoc struct {
	hash string
	doc  []byte
}

func (s *Store) applySet(ctx context.Context, tx *sql.Tx, source string, set ObjectSet) ([]Change, error) {
	sc := set.Schema
	// Only hashes are read in bulk; the prior document is read for the
	// few objects that changed, so an unchanged snapshot of thousands of
	// objects costs one narrow scan.
	existing := map[string]storedDoc{}
	rows, err := tx.QueryContext(ctx, s.rebind(fmt.Sprintf("SELECT id, doc_hash FROM %s WHERE source = ?", sc.Name)), source)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read %s: %w", sc.Name, err), "storing inventory failed")
	}
	for rows.Next() {
		var id string
		var d storedDoc
		if err := rows.Scan(&id, &d.hash); err != nil {
			rows.Close()
			return nil, ims.Internal(fmt.Errorf("scan %s: %w", sc.Name, err), "storing inventory failed")
		}
		existing[id] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("read %s: %w", sc.Name, err), "storing inventory failed")
	}

	cols := columnsOf(sc)
	upsert, err := tx.PrepareContext(ctx, s.upsertSQL(sc, cols))
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("prepare upsert %s: %w", sc.Name, err), "storing inventory failed")
	}
	defer upsert.Close()

	var changes []Change
	seen := make(map[string]bool, len(set.Docs))
	for _, d := range set.Docs {
		if seen[d.ID] {
			return nil, ims.Errorf(ims.EINVALID, "%s %q reported twice by %s", sc.Object, d.ID, source)
		}
		seen[d.ID] = true
		sum := sha256.Sum256(d.JSON)
		hash := hex.EncodeToString(sum[:])
		old, ok := existing[d.ID]
		if ok && old.hash == hash {
			continue
		}
		if ok {
			if old.doc, err = priorDoc(ctx, tx, s, sc, d.ID); err != nil {
				return nil, err
			}
		}
		args, err := columnArgs(sc, cols, d)
		if err != nil {
			return nil, err
		}
		args = append([]any{d.ID, source, hash}, args...)
		args = append(args, string(d.JSON))
		if _, err := upsert.ExecContext(ctx, args...); err != nil {
			return nil, ims.Internal(fmt.Errorf("upsert %s %s: %w", sc.Name, d.ID, err), "storing inventory failed")
		}
		if ok {
			changes = append(changes, Change{Schema: sc, ID: d.ID, Op: OpModify, Prior: old.doc, Post: d.JSON})
		} else {
			changes = append(changes, Change{Schema: sc, ID: d.ID, Op: OpCreate, Post: d.JSON})
		}
	}
	del, err := tx.PrepareContext(ctx, s.rebind(fmt.Sprintf("DELETE FROM %s WHERE id = ? AND source = ?", sc.Name)))
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("prepare delete %s: %w", sc.Name, err), "storing inventory failed")
	}
	defer del.Close()
	for id, old := range existing {
		if seen[id] {
			continue
		}
		if old.doc, err = priorDoc(ctx, tx, s, sc, id); err != nil {
			return nil, err
		}
		if _, err := del.ExecContext(ctx, id, source); err != nil {
			return nil, ims.Internal(fmt.Errorf("delete %s %s: %w", sc.Name, id, err), "storing inventory failed")
		}
		changes = append(changes, Change{Schema: sc, ID: id, Op: OpDelete, Prior: old.doc})
	}
	return changes, nil
}

func priorDoc(ctx context.Context, tx *sql.Tx, s *Store, sc *query.Schema, id string) ([]byte, error) {
	var doc []byte
	if err := tx.QueryRowContext(ctx, s.rebind(fmt.Sprintf("SELECT %s FROM %s WHERE id = ?", sc.DocColumn, sc.Name)), id).Scan(&doc); err != nil {
		return nil, ims.Internal(fmt.Errorf("read %s %s: %w", sc.Name, id, err), "storing inventory failed")
	}
	return doc, nil
}

// span starts the span of a store operation on table (db.* attributes
// of the OpenTelemetry conventions; the statement text is not recorded).
func (s *Store) span(ctx context.Context, op, table string) (context.Context, trace.Span) {
	system := "sqlite"
	if s.dialect == query.Postgres {
		system = "postgresql"
	}
	return tracing.Start(ctx, op+" "+table, attribute.String("db.system", system),
		attribute.String("db.operation.name", op), attribute.String("db.collection.name", table))
}

// scope returns the schema's fixed condition as an AND clause.
func scope(sc *query.Schema) string {
	if sc.Where == "" {
		return ""
	}
	return " AND (" + sc.Where + ")"
}

// columnsOf lists the schema attributes stored in their own column, except
// the primary key, which every table has.
func columnsOf(sc *query.Schema) []query.Attr {
	var cols []query.Attr
	for _, a := range append(sc.Attrs[:len(sc.Attrs):len(sc.Attrs)], sc.Stored...) {
		if a.Column != "" && a.Column != "id" {
			cols = append(cols, a)
		}
	}
	return cols
}

func (s *Store) upsertSQL(sc *query.Schema, cols []query.Attr) string {
	names := []string{"id", "source", "doc_hash"}
	for _, c := range cols {
		names = append(names, c.Column)
	}
	names = append(names, sc.DocColumn)
	var ph, set []string
	for i, n := range names {
		if s.dialect == query.Postgres {
			ph = append(ph, "$"+strconv.Itoa(i+1))
		} else {
			ph = append(ph, "?")
		}
		if n != "id" {
			set = append(set, n+" = excluded."+n)
		}
	}
	if s.dialect == query.Postgres {
		ph[len(ph)-1] += "::jsonb"
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (id) DO UPDATE SET %s",
		sc.Name, strings.Join(names, ", "), strings.Join(ph, ", "), strings.Join(set, ", "))
}

// columnArgs extracts the column values of d from its top-level JSON attributes.
func columnArgs(sc *query.Schema, cols []query.Attr, d Doc) ([]any, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(d.JSON, &top); err != nil {
		return nil, ims.Internal(fmt.Errorf("decode %s %s: %w", sc.Name, d.ID, err), "storing inventory failed")
	}
	args := make([]any, 0, len(cols))
	for _, c := range cols {
		raw, ok := top[c.Name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			args = append(args, nil)
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, ims.Internal(fmt.Errorf("decode %s.%s: %w", sc.Name, c.Name, err), "storing inventory failed")
		}
		switch v := v.(type) {
		case string, float64, bool:
			args = append(args, v)
		default:
			return nil, ims.Internal(fmt.Errorf("%s.%s: column attribute is not a scalar", sc.Name, c.Name), "storing inventory failed")
		}
	}
	return args, nil
}

// rebind turns ? placeholders into $N for PostgreSQL. Only for statements
// whose text has no literal question marks.
func (s *Store) rebind(q string) string {
	if s.dialect != query.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ResourceTypesByPool counts the resources of each pool by resource type.
func (s *Store) ResourceTypesByPool(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT pool_id, type_id, COUNT(*) FROM resources GROUP BY pool_id, type_id")
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("count resources by pool and type: %w", err), "reading failed")
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var pool, typ string
		var n int
		if err := rows.Scan(&pool, &typ, &n); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan resource counts: %w", err), "reading failed")
		}
		if out[pool] == nil {
			out[pool] = map[string]int{}
		}
		out[pool][typ] = n
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("count resources by pool and type: %w", err), "reading failed")
	}
	return out, nil
}

// Analyze refreshes the planner's statistics (ANALYZE), as PostgreSQL's
// autovacuum does in time; right after a bulk load the plans of filtered
// lists depend on them.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
