package alarms

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the alarm service needs from persistence.
type Store interface {
	collection.Store
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	OCloudID(ctx context.Context) (string, error)
	MutateOpenAlarm(ctx context.Context, fingerprint string, fn sqlstore.AlarmMutation) (*ims.AlarmEventRecord, error)
	MutateAlarm(ctx context.Context, id string, fn sqlstore.AlarmMutation) (*ims.AlarmEventRecord, error)
	OpenAlarmFingerprints(ctx context.Context, prefix string) (map[string]string, error)
	DeleteClearedAlarms(ctx context.Context, cutoff time.Time) (int64, error)
	AlarmServiceConfiguration(ctx context.Context, def ims.AlarmServiceConfiguration) (ims.AlarmServiceConfiguration, error)
	PutAlarmServiceConfiguration(ctx context.Context, c ims.AlarmServiceConfiguration) error
}

// DefaultConfiguration keeps cleared alarms for 30 days.
var DefaultConfiguration = ims.AlarmServiceConfiguration{RetentionPeriod: 30}

// Service is the alarm service.
type Service struct {
	store  Store
	logger *slog.Logger
	now    func() time.Time
}

// NewService returns an alarm service over store.
func NewService(store Store, logger *slog.Logger) *Service {
	return &Service{store: store, logger: logger, now: time.Now}
}

func (s *Service) timestamp() string { return s.now().UTC().Format(query.TimeLayout) }

// Condition is an alarm condition as a raiser sees it. Fingerprint
// identifies the condition: while an alarm for it is open, raising it
// again updates that alarm instead of opening another.
type Condition struct {
	Fingerprint    string
	Definition     ims.AlarmDefinition
	Severity       ims.PerceivedSeverity
	ResourceID     string // empty: the O-Cloud as a whole
	ResourceTypeID string
	Extensions     ims.Extensions
}

// Raise opens an alarm for c, or updates the open one when its severity,
// resource or extensions changed (a CHANGE event); an identical raise does
// nothing.
func (s *Service) Raise(ctx context.Context, c Condition) (*ims.AlarmEventRecord, error) {
	if c.Severity == ims.SeverityCleared {
		return nil, s.Resolve(ctx, c.Fingerprint)
	}
	resourceID := c.ResourceID
	if resourceID == "" {
		id, err := s.store.OCloudID(ctx)
		if err != nil {
			return nil, err
		}
		resourceID = id
		if c.ResourceTypeID == "" {
			c.ResourceTypeID = ims.OCloudResourceTypeID
		}
	}
	return s.store.MutateOpenAlarm(ctx, c.Fingerprint, func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
		now := s.timestamp()
		if cur == nil {
			return &ims.AlarmEventRecord{
				AlarmEventRecordID: uuid.NewString(),
				AlarmDefinitionID:  c.Definition.AlarmDefinitionID,
				ProbableCauseID:    c.Definition.ProbableCauseID,
				AlarmRaisedTime:    now,
				AlarmChangedTime:   now,
				ResourceTypeID:     c.ResourceTypeID,
				ResourceID:         resourceID,
				PerceivedSeverity:  c.Severity,
				Extensions:         c.Extensions,
			}, ims.AlarmNew, nil
		}
		if cur.PerceivedSeverity == c.Severity && cur.ResourceID == resourceID && cur.ResourceTypeID == c.ResourceTypeID && sameExtensions(cur.Extensions, c.Extensions) {
			return nil, 0, nil
		}
		next := *cur
		next.PerceivedSeverity, next.ResourceID, next.ResourceTypeID = c.Severity, resourceID, c.ResourceTypeID
		next.Extensions = c.Extensions
		next.AlarmChangedTime = now
		return &next, ims.AlarmChange, nil
	})
}

// sameExtensions compares extensions as they are stored (JSON), so that
// numbers decoded as float64 equal the ints a raiser built.
func sameExtensions(a, b ims.Extensions) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}

// Resolve clears the open alarm of a condition, if there is one.
func (s *Service) Resolve(ctx context.Context, fingerprint string) error {
	_, err := s.store.MutateOpenAlarm(ctx, fingerprint, func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
		if cur == nil {
			return nil, 0, nil
		}
		return s.cleared(cur), ims.AlarmClear, nil
	})
	return err
}

func (s *Service) cleared(cur *ims.AlarmEventRecord) *ims.AlarmEventRecord {
	next := *cur
	now := s.timestamp()
	next.PerceivedSeverity = ims.SeverityCleared
	next.AlarmClearedTime, next.AlarmChangedTime = now, now
	return &next
}

// Reconcile makes the open alarms whose fingerprints start with prefix
// exactly want: missing ones are raised, changed ones updated, and open
// ones no longer wanted are cleared. Raisers that recompute their whole
// state periodically use it, so a missed event heals on the next pass.
func (s *Service) Reconcile(ctx context.Context, prefix string, want []Condition) error {
	open, err := s.store.OpenAlarmFingerprints(ctx, prefix)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, c := range want {
		wanted[c.Fingerprint] = true
		if _, err := s.Raise(ctx, c); err != nil {
			return err
		}
	}
	for fp := range open {
		if !wanted[fp] {
			if err := s.Resolve(ctx, fp); err != nil {
				return err
			}
		}
	}
	return nil
}

// Modifications is an alarm PATCH: exactly one of the two is set.
type Modifications struct {
	AlarmAcknowledged *bool
	PerceivedSeverity *int
}

// Patch acknowledges or manually clears an alarm.
func (s *Service) Patch(ctx context.Context, id string, m Modifications) (Modifications, error) {
	switch {
	case m.AlarmAcknowledged != nil && m.PerceivedSeverity != nil, m.AlarmAcknowledged == nil && m.PerceivedSeverity == nil:
		return m, ims.Errorf(ims.EINVALID, `exactly one of {"alarmAcknowledged": true} or {"perceivedSeverity": 5} is required`)
	case m.AlarmAcknowledged != nil:
		if !*m.AlarmAcknowledged {
			return m, ims.Errorf(ims.EINVALID, "alarmAcknowledged: only true is accepted; an acknowledgement cannot be withdrawn")
		}
		_, err := s.store.MutateAlarm(ctx, id, func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
			if cur.AlarmAcknowledged {
				return nil, 0, ims.Errorf(ims.ECONFLICT, "alarm %q is acknowledged already", id)
			}
			next := *cur
			now := s.timestamp()
			next.AlarmAcknowledged, next.AlarmAcknowledgedTime, next.AlarmChangedTime = true, now, now
			return &next, ims.AlarmAcknowledge, nil
		})
		return m, err
	default:
		if *m.PerceivedSeverity != int(ims.SeverityCleared) {
			return m, ims.Errorf(ims.EINVALID, "perceivedSeverity: only 5 (CLEARED) is accepted")
		}
		_, err := s.store.MutateAlarm(ctx, id, func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
			if cur.PerceivedSeverity == ims.SeverityCleared {
				return nil, 0, ims.Errorf(ims.ECONFLICT, "alarm %q is cleared already", id)
			}
			if d, ok := definitionByID(cur.AlarmDefinitionID); ok && d.ClearingType == ims.ClearingAutomatic {
				return nil, 0, ims.Errorf(ims.ECONFLICT, "alarm %q (%s) clears automatically and cannot be cleared by hand", id, d.AlarmName)
			}
			return s.cleared(cur), ims.AlarmClear, nil
		})
		return m, err
	}
}

// List lists alarms with the SOL013 query language.
func (s *Service) List(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, RecordSchema, req, collection.Options{})
}

// Get returns one alarm as JSON.
func (s *Service) Get(ctx context.Context, id string) (json.RawMessage, error) {
	return s.store.Get(ctx, RecordSchema, id)
}

// Configuration returns the alarm service configuration.
func (s *Service) Configuration(ctx context.Context) (ims.AlarmServiceConfiguration, error) {
	return s.store.AlarmServiceConfiguration(ctx, DefaultConfiguration)
}

// SetConfiguration replaces the configuration.
func (s *Service) SetConfiguration(ctx context.Context, c ims.AlarmServiceConfiguration) (ims.AlarmServiceConfiguration, error) {
	if c.RetentionPeriod < 1 {
		return c, ims.Errorf(ims.EINVALID, "retentionPeriod: must be at least 1 (days), got %d", c.RetentionPeriod)
	}
	if err := s.store.PutAlarmServiceConfiguration(ctx, c); err != nil {
		return c, err
	}
	return c, nil
}

// PatchConfiguration merges a patch into the configuration (RFC 7386:
// a null extension key removes it).
func (s *Service) PatchConfiguration(ctx context.Context, retention *int, extensions map[string]any) (ims.AlarmServiceConfiguration, error) {
	c, err := s.Configuration(ctx)
	if err != nil {
		return c, err
	}
	if retention != nil {
		c.RetentionPeriod = *retention
	}
	if extensions != nil {
		merged := maps.Clone(c.Extensions)
		if merged == nil {
			merged = ims.Extensions{}
		}
		for k, v := range extensions {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		c.Extensions = merged
	}
	return s.SetConfiguration(ctx, c)
}

// RunRetention deletes cleared alarms older than the retention period,
// now and then every interval, until ctx ends.
func (s *Service) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.ApplyRetention(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("alarm retention failed", "err", err)
		} else if n > 0 {
			s.logger.Info("deleted cleared alarms past retention", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ApplyRetention deletes cleared alarms older than the retention period.
func (s *Service) ApplyRetention(ctx context.Context) (int64, error) {
	c, err := s.Configuration(ctx)
	if err != nil {
		return 0, err
	}
	if c.RetentionPeriod > maxRetentionDays {
		// Nothing can have been cleared that long ago; the period in
		// nanoseconds would also overflow a time.Duration (at ~106751 days)
		// and wrap to a cutoff in the future, deleting every cleared alarm.
		return 0, nil
	}
	return s.store.DeleteClearedAlarms(ctx, s.now().UTC().AddDate(0, 0, -c.RetentionPeriod))
}

// maxRetentionDays bounds the retention periods ApplyRetention computes a
// cutoff for (about 2700 years); longer periods keep every alarm.
const maxRetentionDays = 1_000_000

// ProbableCause returns one probable cause.
func ProbableCause(id string) (ims.ProbableCause, error) {
	for _, c := range ProbableCauses {
		if c.ProbableCauseID == id {
			return c, nil
		}
	}
	return ims.ProbableCause{}, ims.Errorf(ims.ENOTFOUND, "probable cause %q not found", id)
}
