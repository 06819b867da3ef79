package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/tracing"
)

// SourceAPI owns objects created through the API (not by a provider).
const SourceAPI = "api"

// ObjectTx reads and writes objects of object-shaped tables within one
// transaction; every write appends an inventory change event to the
// outbox in the same transaction.
type ObjectTx struct {
	s      *Store
	tx     *sql.Tx
	events []Event
}

// Update runs fn in a transaction and commits its writes and events.
func (s *Store) Update(ctx context.Context, fn func(tx *ObjectTx) error) (err error) {
	ctx, span := s.span(ctx, "UPDATE", "objects")
	defer func() { tracing.End(span, err) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ims.Internal(fmt.Errorf("begin: %w", err), "storing failed")
	}
	defer tx.Rollback() //nolint:errcheck
	otx := &ObjectTx{s: s, tx: tx}
	if err := fn(otx); err != nil {
		return err
	}
	if err := s.insertEvents(ctx, tx, otx.events); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return ims.Internal(fmt.Errorf("commit: %w", err), "storing failed")
	}
	return nil
}

// Get reads one object, locking it for the rest of the transaction on
// PostgreSQL (SQLite transactions hold the database write lock already).
func (t *ObjectTx) Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error) {
	lock := ""
	if t.s.dialect == query.Postgres {
		lock = " FOR UPDATE"
	}
	var doc []byte
	err := t.tx.QueryRowContext(ctx, t.s.rebind(fmt.Sprintf("SELECT %s FROM %s WHERE id = ?%s%s", sc.DocColumn, sc.Name, scope(sc), lock)), id).Scan(&doc)
	if isNoRows(err) {
		return nil, ims.Errorf(ims.ENOTFOUND, "%s %q not found", sc.Object, id)
	}
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("get %s %s: %w", sc.Name, id, err), "reading failed")
	}
	return json.RawMessage(doc), nil
}

// Source returns the owner of an object: a provider's name, SourceAPI,
// or another source that stored it.
func (t *ObjectTx) Source(ctx context.Context, sc *query.Schema, id string) (string, error) {
	var src string
	err := t.tx.QueryRowContext(ctx, t.s.rebind(fmt.Sprintf("SELECT source FROM %s WHERE id = ?%s", sc.Name, scope(sc))), id).Scan(&src)
	if isNoRows(err) {
		return "", ims.Errorf(ims.ENOTFOUND, "%s %q not found", sc.Object, id)
	}
	if err != nil {
		return "", ims.Internal(fmt.Errorf("get %s %s: %w", sc.Name, id, err), "reading failed")
	}
	return src, nil
}

// Put inserts or replaces an object and records a create or modify event
// (none when the document is unchanged).
func (t *ObjectTx) Put(ctx context.Context, sc *query.Schema, id string, doc json.RawMessage) error {
	prior, err := t.Get(ctx, sc, id)
	if err != nil && ims.ErrorCode(err) != ims.ENOTFOUND {
		return err
	}
	sum := sha256.Sum256(doc)
	hash := hex.EncodeToString(sum[:])
	cols := columnsOf(sc)
	args, err := columnArgs(sc, cols, Doc{ID: id, JSON: doc})
	if err != nil {
		return err
	}
	args = append([]any{id, SourceAPI, hash}, args...)
	args = append(args, string(doc))
	if _, err := t.tx.ExecContext(ctx, t.s.upsertSQL(sc, cols), args...); err != nil {
		return ims.Internal(fmt.Errorf("put %s %s: %w", sc.Name, id, err), "storing failed")
	}
	ev := Event{Stream: StreamInventory, ObjectType: sc.Name, ObjectID: id, EventType: int(OpCreate), Post: doc}
	if prior != nil {
		if string(prior) == string(doc) {
			return nil
		}
		ev.EventType, ev.Prior = int(OpModify), prior
	}
	t.events = append(t.events, ev)
	return nil
}

// Delete removes an object and records a delete event.
func (t *ObjectTx) Delete(ctx context.Context, sc *query.Schema, id string) error {
	prior, err := t.Get(ctx, sc, id)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, t.s.rebind(fmt.Sprintf("DELETE FROM %s WHERE id = ?", sc.Name)), id); err != nil {
		return ims.Internal(fmt.Errorf("delete %s %s: %w", sc.Name, id, err), "deleting failed")
	}
	t.events = append(t.events, Event{Stream: StreamInventory, ObjectType: sc.Name, ObjectID: id, EventType: int(OpDelete), Prior: prior})
	return nil
}

// Exec runs a statement within the transaction (placeholders as ?).
func (t *ObjectTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, t.s.rebind(q), args...)
	if err != nil {
		return 0, ims.Internal(fmt.Errorf("exec: %w", err), "storing failed")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Count counts rows of a query within the transaction.
func (t *ObjectTx) Count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, t.s.rebind(q), args...).Scan(&n); err != nil {
		return 0, ims.Internal(fmt.Errorf("count: %w", err), "reading failed")
	}
	return n, nil
}

// PutPackageContent stores a package's content.
func (t *ObjectTx) PutPackageContent(ctx context.Context, packageID, checksum string, content []byte) error {
	_, err := t.Exec(ctx, "INSERT INTO cnf_package_content (package_id, checksum, content) VALUES (?, ?, ?)", packageID, checksum, content)
	return err
}

// PackageContent reads a package's content and checksum.
func (s *Store) PackageContent(ctx context.Context, packageID string) ([]byte, string, error) {
	var content []byte
	var sum string
	err := s.db.QueryRowContext(ctx, s.rebind("SELECT content, checksum FROM cnf_package_content WHERE package_id = ?"), packageID).Scan(&content, &sum)
	if isNoRows(err) {
		return nil, "", ims.Errorf(ims.ENOTFOUND, "content of package %q not found", packageID)
	}
	if err != nil {
		return nil, "", ims.Internal(fmt.Errorf("read package content: %w", err), "reading the package failed")
	}
	return content, sum, nil
}
