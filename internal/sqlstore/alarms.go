package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// AlarmMutation decides the next state of an alarm. cur is nil when no
// alarm exists for the key. It returns the record to store (nil: leave
// everything as is) and the event type to record.
type AlarmMutation func(cur *ims.AlarmEventRecord) (next *ims.AlarmEventRecord, event ims.AlarmEventType, err error)

// MutateOpenAlarm applies fn to the open (not cleared) alarm with
// fingerprint, or to nil when there is none, in one transaction together
// with its outbox event. A record whose severity is cleared stops being
// open, so the same condition raises a new alarm next time.
//
// Two transactions that both find no open alarm race to insert one; the
// loser fails on the unique index and is retried, so that it sees the
// winner's alarm and updates it (or leaves it) instead of failing.
func (s *Store) MutateOpenAlarm(ctx context.Context, fingerprint string, fn AlarmMutation) (*ims.AlarmEventRecord, error) {
	for attempt := 1; ; attempt++ {
		rec, err := s.mutateAlarm(ctx, "fingerprint = ? AND active = 1", fingerprint, fingerprint, fn)
		if errors.Is(err, errOpenAlarmExists) && attempt < 3 {
			continue
		}
		return rec, err
	}
}

// errOpenAlarmExists is the cause of the ECONFLICT returned when an insert
// hits the one-open-alarm-per-fingerprint index.
var errOpenAlarmExists = errors.New("an open alarm with this fingerprint exists")

func openAlarmConflict() error {
	return &ims.Error{Code: ims.ECONFLICT, Message: "an open alarm for this condition exists already", Err: errOpenAlarmExists}
}

// MutateAlarm applies fn to the alarm with id (ENOTFOUND when absent).
func (s *Store) MutateAlarm(ctx context.Context, id string, fn AlarmMutation) (*ims.AlarmEventRecord, error) {
	return s.mutateAlarm(ctx, "id = ?", id, "", func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
		if cur == nil {
			return nil, 0, ims.Errorf(ims.ENOTFOUND, "alarm %q not found", id)
		}
		return fn(cur)
	})
}

func (s *Store) mutateAlarm(ctx context.Context, where, key, fingerprint string, fn AlarmMutation) (*ims.AlarmEventRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("begin: %w", err), "updating the alarm failed")
	}
	defer tx.Rollback() //nolint:errcheck
	lock := ""
	if s.dialect == query.Postgres {
		lock = " FOR UPDATE"
	}
	var (
		cur   *ims.AlarmEventRecord
		prior []byte
		curFP string
	)
	err = tx.QueryRowContext(ctx, s.rebind("SELECT doc, fingerprint FROM alarms WHERE "+where+lock), key).Scan(&prior, &curFP)
	switch {
	case isNoRows(err):
	case err != nil:
		return nil, ims.Internal(fmt.Errorf("read alarm: %w", err), "updating the alarm failed")
	default:
		cur = &ims.AlarmEventRecord{}
		if err := json.Unmarshal(prior, cur); err != nil {
			return nil, ims.Internal(fmt.Errorf("decode alarm: %w", err), "updating the alarm failed")
		}
		fingerprint = curFP
	}
	next, evType, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return cur, nil
	}
	doc, err := json.Marshal(next)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("encode alarm: %w", err), "updating the alarm failed")
	}
	active := 1
	if next.PerceivedSeverity == ims.SeverityCleared {
		active = 0
	}
	docArg := "?"
	if s.dialect == query.Postgres {
		docArg = "?::jsonb"
	}
	args := []any{fingerprint, active, next.AlarmDefinitionID, next.ProbableCauseID, next.ResourceTypeID, next.ResourceID,
		int(next.PerceivedSeverity), strconv.FormatBool(next.AlarmAcknowledged), next.AlarmRaisedTime,
		nullString(next.AlarmChangedTime), nullString(next.AlarmClearedTime), string(doc)}
	if cur == nil {
		_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO alarms (id, fingerprint, active, definition_id, probable_cause_id, resource_type_id, resource_id,
			severity, acknowledged, raised_time, changed_time, cleared_time, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+docArg+`)`),
			append([]any{next.AlarmEventRecordID}, args...)...)
	} else {
		_, err = tx.ExecContext(ctx, s.rebind(`UPDATE alarms SET fingerprint = ?, active = ?, definition_id = ?, probable_cause_id = ?, resource_type_id = ?,
			resource_id = ?, severity = ?, acknowledged = ?, raised_time = ?, changed_time = ?, cleared_time = ?, doc = `+docArg+` WHERE id = ?`),
			append(args, cur.AlarmEventRecordID)...)
	}
	if err != nil {
		if isUniqueViolation(err) {
			return nil, openAlarmConflict()
		}
		return nil, ims.Internal(fmt.Errorf("write alarm: %w", err), "updating the alarm failed")
	}
	ev := Event{Stream: StreamAlarm, ObjectType: "alarms", ObjectID: next.AlarmEventRecordID, EventType: int(evType), Prior: nonEmpty(prior), Post: doc}
	if err := s.insertEvents(ctx, tx, []Event{ev}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		if isUniqueViolation(err) {
			return nil, openAlarmConflict()
		}
		return nil, ims.Internal(fmt.Errorf("commit: %w", err), "updating the alarm failed")
	}
	return next, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// OpenAlarmFingerprints returns the fingerprints of open alarms whose
// fingerprint starts with prefix.
func (s *Store) OpenAlarmFingerprints(ctx context.Context, prefix string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind("SELECT fingerprint, id FROM alarms WHERE active = 1 AND substr(fingerprint, 1, ?) = ?"), len(prefix), prefix)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("open alarms: %w", err), "reading alarms failed")
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var fp, id string
		if err := rows.Scan(&fp, &id); err != nil {
			return nil, err
		}
		out[fp] = id
	}
	return out, rows.Err()
}

// DeleteClearedAlarms removes alarms cleared before cutoff.
func (s *Store) DeleteClearedAlarms(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind("DELETE FROM alarms WHERE active = 0 AND cleared_time < ?"), cutoff.UTC().Format(query.TimeLayout))
	if err != nil {
		return 0, ims.Internal(fmt.Errorf("delete cleared alarms: %w", err), "alarm retention failed")
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AlarmServiceConfiguration returns the stored configuration, or def when
// none was stored yet.
func (s *Store) AlarmServiceConfiguration(ctx context.Context, def ims.AlarmServiceConfiguration) (ims.AlarmServiceConfiguration, error) {
	var doc []byte
	err := s.db.QueryRowContext(ctx, "SELECT doc FROM alarm_service_configuration WHERE singleton = 1").Scan(&doc)
	if isNoRows(err) {
		return def, nil
	}
	if err != nil {
		return def, ims.Internal(fmt.Errorf("read alarm configuration: %w", err), "reading the configuration failed")
	}
	var c ims.AlarmServiceConfiguration
	if err := json.Unmarshal(doc, &c); err != nil {
		return def, ims.Internal(fmt.Errorf("decode alarm configuration: %w", err), "reading the configuration failed")
	}
	return c, nil
}

// PutAlarmServiceConfiguration stores c.
func (s *Store) PutAlarmServiceConfiguration(ctx context.Context, c ims.AlarmServiceConfiguration) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return ims.Internal(err, "storing the configuration failed")
	}
	docArg := "?"
	if s.dialect == query.Postgres {
		docArg = "?::jsonb"
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO alarm_service_configuration (singleton, doc) VALUES (1, `+docArg+`)
		ON CONFLICT (singleton) DO UPDATE SET doc = excluded.doc`), string(doc))
	if err != nil {
		return ims.Internal(fmt.Errorf("store alarm configuration: %w", err), "storing the configuration failed")
	}
	return nil
}
