package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// Subscription is a stored subscription with its delivery state. Each
// subscription consumes its stream in order from Cursor (the last event
// seq it is done with), so delivery order is commit order.
type Subscription struct {
	ID     string
	Stream string
	// APIMajor is the major version of the API the subscription was made
	// with (inventory v1 or v2); it decides its notifications' shape.
	APIMajor               int
	Callback               string
	ConsumerSubscriptionID string
	Filter                 string
	Doc                    json.RawMessage // the API representation
	CreatedAt              time.Time
	Cursor                 int64
	Attempts               int
	NextAttemptAt          time.Time
	RetryingSince          time.Time
	LastError              string
	LastDeliveredAt        time.Time
	Delivered              int64
	Expired                int64
}

const subscriptionColumns = `id, stream, api_major, callback, COALESCE(consumer_subscription_id, ''), filter, doc, created_at, cursor,
	attempts, next_attempt_at, retrying_since, last_error, last_delivered_at, delivered_count, expired_count`

type scanner interface{ Scan(dest ...any) error }

func scanSubscription(row scanner) (Subscription, error) {
	var s Subscription
	var doc []byte
	var created, next, retrying, delivered int64
	err := row.Scan(&s.ID, &s.Stream, &s.APIMajor, &s.Callback, &s.ConsumerSubscriptionID, &s.Filter, &doc, &created, &s.Cursor,
		&s.Attempts, &next, &retrying, &s.LastError, &delivered, &s.Delivered, &s.Expired)
	if err != nil {
		return s, err
	}
	s.Doc = json.RawMessage(doc)
	s.CreatedAt = time.UnixMilli(created)
	s.NextAttemptAt = msTime(next)
	s.RetryingSince = msTime(retrying)
	s.LastDeliveredAt = msTime(delivered)
	return s, nil
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// ErrDuplicateSubscription is the cause of the EINVALID error of a second
// subscription of one callback and filter.
var ErrDuplicateSubscription = errors.New("duplicate subscription")

// CreateSubscription stores sub. It starts at the end of its stream: only
// changes committed after it are delivered. dedupeKey identifies the
// (callback, filter) pair; a second subscription with the same key is
// EINVALID (wrapping ErrDuplicateSubscription), naming the first.
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription, dedupeKey string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ims.Internal(fmt.Errorf("begin: %w", err), "creating the subscription failed")
	}
	defer tx.Rollback() //nolint:errcheck
	var existing string
	err = tx.QueryRowContext(ctx, s.rebind("SELECT id FROM subscriptions WHERE dedupe_key = ?"), dedupeKey).Scan(&existing)
	switch {
	case err == nil:
		return duplicate(existing)
	case !errors.Is(err, sql.ErrNoRows):
		return ims.Internal(fmt.Errorf("check duplicate: %w", err), "creating the subscription failed")
	}
	if s.dialect == query.Postgres {
		// Take the outbox lock so no event commits between reading the
		// cursor and committing the subscription.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", eventLockKey); err != nil {
			return ims.Internal(fmt.Errorf("lock outbox: %w", err), "creating the subscription failed")
		}
	}
	cursor, err := lastSeq(ctx, tx, s.rebind, sub.Stream)
	if err != nil {
		return err
	}
	docArg := "?"
	if s.dialect == query.Postgres {
		docArg = "?::jsonb"
	}
	major := max(sub.APIMajor, 1)
	_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO subscriptions (id, stream, api_major, dedupe_key, callback, consumer_subscription_id, filter, doc, created_at, cursor)
		VALUES (?, ?, ?, ?, ?, ?, ?, `+docArg+`, ?, ?)`),
		sub.ID, sub.Stream, major, dedupeKey, sub.Callback, sub.ConsumerSubscriptionID, sub.Filter, string(sub.Doc), time.Now().UnixMilli(), cursor)
	if err != nil {
		if isUniqueViolation(err) {
			return duplicate("")
		}
		return ims.Internal(fmt.Errorf("insert subscription: %w", err), "creating the subscription failed")
	}
	if err := tx.Commit(); err != nil {
		if isUniqueViolation(err) {
			return duplicate("")
		}
		return ims.Internal(fmt.Errorf("commit: %w", err), "creating the subscription failed")
	}
	return nil
}

// duplicate is the error of a second subscription of one callback and
// filter: 400, which the O-RAN SC compliance suite (with which operators
// certify an O2 IMS) expects, naming the first when it is known (a
// concurrent one may not be readable yet).
func duplicate(existing string) error {
	msg := "a subscription with this callback and filter exists already"
	if existing != "" {
		msg += ": " + existing
	}
	return &ims.Error{Code: ims.EINVALID, Message: msg, Err: ErrDuplicateSubscription}
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// GetSubscription returns one subscription of stream.
func (s *Store) GetSubscription(ctx context.Context, stream, id string) (Subscription, error) {
	row := s.db.QueryRowContext(ctx, s.rebind("SELECT "+subscriptionColumns+" FROM subscriptions WHERE id = ? AND stream = ?"), id, stream)
	sub, err := scanSubscription(row)
	if isNoRows(err) {
		return sub, ims.Errorf(ims.ENOTFOUND, "subscription %q not found", id)
	}
	if err != nil {
		return sub, ims.Internal(fmt.Errorf("get subscription: %w", err), "reading the subscription failed")
	}
	return sub, nil
}

// SubscriptionsByID returns the subscriptions with the given ids.
func (s *Store) SubscriptionsByID(ctx context.Context, ids []string) (map[string]Subscription, error) {
	out := make(map[string]Subscription, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, s.rebind("SELECT "+subscriptionColumns+" FROM subscriptions WHERE id IN ("+ph+")"), args...)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("read subscriptions: %w", err), "reading subscriptions failed")
	}
	defer rows.Close()
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, ims.Internal(fmt.Errorf("scan subscription: %w", err), "reading subscriptions failed")
		}
		out[sub.ID] = sub
	}
	return out, rows.Err()
}

// DeleteSubscription removes a subscription of stream.
func (s *Store) DeleteSubscription(ctx context.Context, stream, id string) error {
	res, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM subscriptions WHERE id = ? AND stream = ?"), id, stream)
	if err != nil {
		return ims.Internal(fmt.Errorf("delete subscription: %w", err), "deleting the subscription failed")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ims.Errorf(ims.ENOTFOUND, "subscription %q not found", id)
	}
	return nil
}

// ClaimSubscriptions leases, to owner until now+lease, up to limit
// subscriptions that have undelivered events, are due for an attempt, and
// are not leased (released, or the lease expired). Leases keep two servers
// on one database from delivering to the same subscriber at once; a lease
// of a dead server simply expires.
//
// A subscription still leased to owner itself is not claimed again: its
// worker is running (or is about to release it), and returning it would
// both fill limit with subscriptions the caller cannot start, starving the
// others, and hand out a cursor the running worker has moved past.
func (s *Store) ClaimSubscriptions(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Subscription, error) {
	nowMS, until := now.UnixMilli(), now.Add(lease).UnixMilli()
	rows, err := s.db.QueryContext(ctx, s.rebind(`UPDATE subscriptions SET lease_owner = ?, lease_until = ?
		WHERE id IN (
			SELECT id FROM subscriptions sub
			WHERE lease_until < ? AND next_attempt_at <= ?
			AND cursor < (SELECT COALESCE(MAX(seq), 0) FROM events WHERE events.stream = sub.stream)
			ORDER BY next_attempt_at LIMIT ?)
		AND lease_until < ?
		RETURNING `+subscriptionColumns), owner, until, nowMS, nowMS, limit, nowMS)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("claim subscriptions: %w", err), "claiming subscriptions failed")
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, ims.Internal(fmt.Errorf("scan subscription: %w", err), "claiming subscriptions failed")
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Progress is what a delivery worker reports about one subscription.
type Progress struct {
	Cursor     int64     // the last event seq done with
	Delivered  int64     // notifications delivered since the last report
	Expired    int64     // events given up as too old since the last report
	LeaseUntil time.Time // lease renewal; zero releases the lease
	// Failure, when set, records a failed attempt at event Cursor+1.
	Failure *Failure
	// Dropped, when set, is the error of an event given up for good (the
	// subscriber rejected it); it is shown as the last error.
	Dropped string
}

// Failure describes a failed delivery attempt.
type Failure struct {
	Error         string
	At            time.Time
	NextAttemptAt time.Time
}

// ErrLeaseLost is returned when another owner took the subscription over
// (or it was deleted); the worker must stop without delivering more.
var ErrLeaseLost = errors.New("subscription lease lost")

// ReportProgress records a worker's progress if owner still holds the lease.
func (s *Store) ReportProgress(ctx context.Context, id, owner string, p Progress) error {
	var (
		q    string
		args []any
	)
	if p.Failure == nil {
		lastDelivered := "last_delivered_at"
		dropped := truncate(p.Dropped, 512)
		args = []any{p.Cursor, p.Delivered, p.Expired, msOf(p.LeaseUntil), dropped, dropped}
		if p.Delivered > 0 {
			lastDelivered = "?"
			args = append(args, time.Now().UnixMilli())
		}
		q = `UPDATE subscriptions SET cursor = ?, delivered_count = delivered_count + ?, expired_count = expired_count + ?,
			lease_until = ?, attempts = 0, retrying_since = 0, next_attempt_at = 0,
			last_error = CASE WHEN ? = '' THEN last_error ELSE ? END, last_delivered_at = ` + lastDelivered + `
			WHERE id = ? AND lease_owner = ?`
	} else {
		msg := truncate(p.Failure.Error, 512)
		args = []any{p.Cursor, p.Delivered, p.Expired, msOf(p.LeaseUntil), msOf(p.Failure.NextAttemptAt), msg}
		if p.Delivered > 0 {
			// The subscriber accepted notifications since the last
			// report: this failure starts a new retry episode rather
			// than prolonging (and backing off) the previous one.
			q = `UPDATE subscriptions SET cursor = ?, delivered_count = delivered_count + ?, expired_count = expired_count + ?,
				lease_until = ?, attempts = 1, next_attempt_at = ?, last_error = ?,
				retrying_since = ?, last_delivered_at = ?
				WHERE id = ? AND lease_owner = ?`
			args = append(args, msOf(p.Failure.At), time.Now().UnixMilli())
		} else {
			q = `UPDATE subscriptions SET cursor = ?, delivered_count = delivered_count + ?, expired_count = expired_count + ?,
				lease_until = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
				retrying_since = CASE WHEN retrying_since = 0 THEN ? ELSE retrying_since END
				WHERE id = ? AND lease_owner = ?`
			args = append(args, msOf(p.Failure.At))
		}
	}
	args = append(args, id, owner)
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return ims.Internal(fmt.Errorf("report progress: %w", err), "recording delivery progress failed")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// QueueDepths returns, per subscription, how many events of its stream it
// has not yet processed (matching or not).
func (s *Store) QueueDepths(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sub.id, (SELECT COUNT(*) FROM events e WHERE e.stream = sub.stream AND e.seq > sub.cursor) FROM subscriptions sub`)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("queue depths: %w", err), "reading queue depths failed")
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
