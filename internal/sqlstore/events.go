package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// Event streams.
const (
	StreamInventory = "inventory"
	StreamAlarm     = "alarm"
)

// Event is one entry of the outbox: a change committed together with it.
type Event struct {
	Seq        int64
	Stream     string
	ObjectType string // the table of the changed object
	ObjectID   string
	EventType  int
	Prior      json.RawMessage
	Post       json.RawMessage
	CreatedAt  time.Time
}

// eventLockKey serialises outbox writers on PostgreSQL. Sequence values are
// taken at insert time but become visible at commit; without the lock a
// reader could see seq 11 committed before seq 10 and move past 10 for
// good. Holding one transaction-scoped lock from insert to commit makes seq
// order equal commit order. SQLite serialises writers anyway.
const eventLockKey = 0x02_1A_5E_7E

// insertEvents appends events to the outbox within tx.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	if s.dialect == query.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", eventLockKey); err != nil {
			return ims.Internal(fmt.Errorf("lock outbox: %w", err), "recording the change failed")
		}
	}
	q := "INSERT INTO events (stream, object_type, object_id, event_type, prior, post, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq"
	if s.dialect == query.Postgres {
		q = "INSERT INTO events (stream, object_type, object_id, event_type, prior, post, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7) RETURNING seq"
	}
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return ims.Internal(fmt.Errorf("prepare event insert: %w", err), "recording the change failed")
	}
	defer stmt.Close()
	change, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO changes (object_type, object_id, seq, deleted, changed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (object_type, object_id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted, changed_at = excluded.changed_at`))
	if err != nil {
		return ims.Internal(fmt.Errorf("prepare change upsert: %w", err), "recording the change failed")
	}
	defer change.Close()
	now := time.Now().UnixMilli()
	for _, e := range events {
		var seq int64
		if err := stmt.QueryRowContext(ctx, e.Stream, e.ObjectType, e.ObjectID, e.EventType, nullJSON(e.Prior), nullJSON(e.Post), now).Scan(&seq); err != nil {
			return ims.Internal(fmt.Errorf("insert event: %w", err), "recording the change failed")
		}
		if e.Stream != StreamInventory {
			continue
		}
		if _, err := change.ExecContext(ctx, e.ObjectType, e.ObjectID, seq, e.EventType == int(OpDelete), now); err != nil {
			return ims.Internal(fmt.Errorf("record change: %w", err), "recording the change failed")
		}
	}
	return nil
}

// ChangeStamp is the newest change seq of the inventory (0 when nothing
// changed yet): a list read after it holds every change up to it.
func (s *Store) ChangeStamp(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(seq) FROM changes").Scan(&seq); err != nil {
		return 0, ims.Internal(fmt.Errorf("read change stamp: %w", err), "reading failed")
	}
	return seq.Int64, nil
}

// ChangedSince is a condition on the objects of sc: changed after seq.
func (s *Store) ChangedSince(sc *query.Schema, seq int64) query.Cond {
	return func(b *query.Builder) string {
		return sc.Name + ".id IN (SELECT c.object_id FROM changes c WHERE c.object_type = " + b.Arg(sc.Name) + " AND c.seq > " + b.Arg(seq) + ")"
	}
}

// DeletedSince lists the ids of the objects of sc deleted after seq (at
// most limit).
func (s *Store) DeletedSince(ctx context.Context, sc *query.Schema, seq int64, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind("SELECT object_id FROM changes WHERE object_type = ? AND seq > ? AND deleted = ? ORDER BY object_id LIMIT ?"), sc.Name, seq, true, limit)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read deletions: %w", err), "reading failed")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan deletions: %w", err), "reading failed")
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// Events returns up to limit events of stream with seq > after, in order.
func (s *Store) Events(ctx context.Context, stream string, after int64, limit int) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT seq, stream, object_type, object_id, event_type, prior, post, created_at
		FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?`), stream, after, limit)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read events: %w", err), "reading events failed")
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var prior, post []byte
		var created int64
		if err := rows.Scan(&e.Seq, &e.Stream, &e.ObjectType, &e.ObjectID, &e.EventType, &prior, &post, &created); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan event: %w", err), "reading events failed")
		}
		e.Prior, e.Post = nonEmpty(prior), nonEmpty(post)
		e.CreatedAt = time.UnixMilli(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("read events: %w", err), "reading events failed")
	}
	return out, nil
}

func nonEmpty(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// LastSeq returns the newest event seq of stream, 0 when there is none.
func (s *Store) LastSeq(ctx context.Context, stream string) (int64, error) {
	return lastSeq(ctx, s.db, s.rebind, stream)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func lastSeq(ctx context.Context, q queryer, rebind func(string) string, stream string) (int64, error) {
	var seq sql.NullInt64
	if err := q.QueryRowContext(ctx, rebind("SELECT MAX(seq) FROM events WHERE stream = ?"), stream).Scan(&seq); err != nil {
		return 0, ims.Internal(fmt.Errorf("read last event: %w", err), "reading events failed")
	}
	return seq.Int64, nil
}

// PruneTombstones forgets the deletions recorded more than maxAge ago and
// raises each object type's horizon to the newest of them, so a change
// stamp from before it is answered as gone rather than with deletions
// missing.
func (s *Store) PruneTombstones(ctx context.Context, maxAge time.Duration) (int64, error) {
	cutoff := time.Now().Add(-maxAge).UnixMilli()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, ims.Internal(fmt.Errorf("begin: %w", err), "pruning tombstones failed")
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO change_horizon (object_type, seq)
		SELECT object_type, MAX(seq) FROM changes WHERE deleted = ? AND changed_at < ? GROUP BY object_type
		ON CONFLICT (object_type) DO UPDATE SET seq = CASE WHEN excluded.seq > change_horizon.seq THEN excluded.seq ELSE change_horizon.seq END`), true, cutoff); err != nil {
		return 0, ims.Internal(fmt.Errorf("raise change horizon: %w", err), "pruning tombstones failed")
	}
	res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM changes WHERE deleted = ? AND changed_at < ?`), true, cutoff)
	if err != nil {
		return 0, ims.Internal(fmt.Errorf("prune tombstones: %w", err), "pruning tombstones failed")
	}
	if err := tx.Commit(); err != nil {
		return 0, ims.Internal(fmt.Errorf("commit: %w", err), "pruning tombstones failed")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ChangeHorizon is the newest pruned deletion of sc's objects (0: none
// was pruned); a change stamp below it no longer lists every deletion.
func (s *Store) ChangeHorizon(ctx context.Context, sc *query.Schema) (int64, error) {
	var seq sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.rebind("SELECT seq FROM change_horizon WHERE object_type = ?"), sc.Name).Scan(&seq)
	if err != nil && !isNoRows(err) {
		return 0, ims.Internal(fmt.Errorf("read change horizon: %w", err), "reading failed")
	}
	return seq.Int64, nil
}

// PruneEvents deletes the events every subscription and every outbox
// reader of their stream is done with (all of a stream nobody reads), and
// any event older than maxAge.
func (s *Store) PruneEvents(ctx context.Context, maxAge time.Duration) (int64, error) {
	cutoff := time.Now().Add(-maxAge).UnixMilli()
	subs := "(SELECT MIN(cursor) FROM subscriptions WHERE subscriptions.stream = events.stream)"
	readers := "(SELECT MIN(cursor) FROM outbox_readers WHERE outbox_readers.stream = events.stream)"
	// The lower of the two floors, either possibly NULL (no reader of
	// that kind): PostgreSQL's LEAST skips NULLs, SQLite's min does not.
	floor := "LEAST(" + subs + ", " + readers + ")"
	if s.dialect != query.Postgres {
		floor = "min(COALESCE(" + subs + ", " + readers + "), COALESCE(" + readers + ", " + subs + "))"
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM events WHERE created_at < ? OR seq <= COALESCE(`+floor+`,
		(SELECT MAX(seq) FROM events e2 WHERE e2.stream = events.stream))`), cutoff)
	if err != nil {
		return 0, ims.Internal(fmt.Errorf("prune events: %w", err), "pruning events failed")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RegisterReader makes name a reader of the outbox streams: their events
// are kept for it from now on (from its stored cursor, or from the start
// of what the outbox holds for a new reader) until SetReaderCursor moves
// it on.
func (s *Store) RegisterReader(ctx context.Context, name string, streams []string) error {
	for _, stream := range streams {
		_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO outbox_readers (name, stream, cursor, updated_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (name, stream) DO NOTHING`), name, stream, time.Now().UnixMilli())
		if err != nil {
			return ims.Internal(fmt.Errorf("register outbox reader %s: %w", name, err), "starting the event stream failed")
		}
	}
	return nil
}

// SetReaderCursor records that reader name is done with the events of
// stream up to seq; the cursor never moves back.
func (s *Store) SetReaderCursor(ctx context.Context, name, stream string, seq int64) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE outbox_readers SET cursor = ?, updated_at = ? WHERE name = ? AND stream = ? AND cursor < ?`),
		seq, time.Now().UnixMilli(), name, stream, seq)
	if err != nil {
		return ims.Internal(fmt.Errorf("outbox reader %s: %w", name, err), "recording the event stream's progress failed")
	}
	return nil
}

// RemoveReader forgets reader name, so the outbox no longer keeps events
// for it (a server started without its event stream).
func (s *Store) RemoveReader(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM outbox_readers WHERE name = ?`), name); err != nil {
		return ims.Internal(fmt.Errorf("remove outbox reader %s: %w", name, err), "forgetting the event stream failed")
	}
	return nil
}
