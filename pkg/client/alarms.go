package o2

import (
	"context"
	"iter"
	"strconv"
	"time"
)

// PerceivedSeverity is the severity of an alarm, numbered as O2ims does:
// it is a number in JSON and in filters, such as
// Lte("perceivedSeverity", SeverityMajor).
type PerceivedSeverity int

// The perceived severities of an alarm.
const (
	SeverityCritical      PerceivedSeverity = 0
	SeverityMajor         PerceivedSeverity = 1
	SeverityMinor         PerceivedSeverity = 2
	SeverityWarning       PerceivedSeverity = 3
	SeverityIndeterminate PerceivedSeverity = 4
	// SeverityCleared marks a cleared alarm.
	SeverityCleared PerceivedSeverity = 5
)

var severityNames = [...]string{"CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE", "CLEARED"}

// String returns the O2ims name of s, such as "CRITICAL", or
// "PerceivedSeverity(n)" for a number outside 0 to 5.
func (s PerceivedSeverity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "PerceivedSeverity(" + strconv.Itoa(int(s)) + ")"
}

// AlarmEventRecord is an alarm raised on the O-Cloud. Attribute names keep
// the O2ims spelling, ID suffixes included, because filters use them:
// Eq("alarmDefinitionID", id). Alarms not tied to an inventory object
// carry the oCloudId as ResourceID. Extensions are excluded from lists
// unless selected.
type AlarmEventRecord struct {
	// AlarmEventRecordID identifies the alarm.
	AlarmEventRecordID string `json:"alarmEventRecordId"`
	// AlarmDefinitionID identifies the definition of the alarm in the
	// alarm dictionary.
	AlarmDefinitionID string `json:"alarmDefinitionID"`
	// ProbableCauseID identifies the probable cause.
	ProbableCauseID string `json:"probableCauseID"`
	// AlarmRaisedTime is when the alarm was raised.
	AlarmRaisedTime time.Time `json:"alarmRaisedTime,omitzero"`
	// AlarmChangedTime is when the alarm last changed; zero if never.
	AlarmChangedTime time.Time `json:"alarmChangedTime,omitzero"`
	// AlarmClearedTime is when the alarm was cleared; zero while it is
	// not.
	AlarmClearedTime time.Time `json:"alarmClearedTime,omitzero"`
	// AlarmAcknowledgedTime is when the alarm was acknowledged; zero while
	// it is not.
	AlarmAcknowledgedTime time.Time `json:"alarmAcknowledgedTime,omitzero"`
	// AlarmAcknowledged tells whether the alarm was acknowledged.
	AlarmAcknowledged bool `json:"alarmAcknowledged"`
	// ResourceTypeID identifies the type of the alarmed resource; it may
	// be empty.
	ResourceTypeID string `json:"resourceTypeID"`
	// ResourceID identifies the alarmed resource, or the O-Cloud.
	ResourceID string `json:"resourceID"`
	// PerceivedSeverity is the severity; SeverityCleared once cleared.
	PerceivedSeverity PerceivedSeverity `json:"perceivedSeverity"`
	// Extensions are implementation-specific attributes, such as the
	// labels of an Alertmanager alert.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// alarmAcknowledgement and alarmClearing are the two merge patches an
// alarm accepts; each holds exactly one attribute.
type (
	alarmAcknowledgement struct {
		AlarmAcknowledged bool `json:"alarmAcknowledged"`
	}
	alarmClearing struct {
		PerceivedSeverity PerceivedSeverity `json:"perceivedSeverity"`
	}
)

// AlarmService reads, acknowledges and clears the alarms of the O-Cloud.
// Get one with Client.Alarms.
type AlarmService struct {
	col collection[AlarmEventRecord]
}

// Alarms returns the service for the alarms of the O-Cloud.
func (c *Client) Alarms() *AlarmService {
	return &AlarmService{col: newCollection[AlarmEventRecord](c, "alarm", MonitoringAPIPrefix, "alarms")}
}

// List returns the page of alarms opts select, such as the critical ones
// with Eq("perceivedSeverity", SeverityCritical).
func (s *AlarmService) List(ctx context.Context, opts ListOptions) (*Page[AlarmEventRecord], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every alarm opts select, fetching pages of opts.Limit
// as needed.
func (s *AlarmService) All(ctx context.Context, opts ListOptions) iter.Seq2[AlarmEventRecord, error] {
	return s.col.all(ctx, opts)
}

// Get returns the alarm with identifier id, with all its attributes.
func (s *AlarmService) Get(ctx context.Context, id string) (*AlarmEventRecord, error) {
	return s.col.get(ctx, id)
}

// Acknowledge acknowledges the alarm with identifier id, with the merge
// patch {"alarmAcknowledged": true}. It is never retried. An alarm
// acknowledged already is a ProblemError with status 409 (IsConflict); an
// acknowledgement cannot be withdrawn.
func (s *AlarmService) Acknowledge(ctx context.Context, id string) error {
	return s.col.modify(ctx, id, alarmAcknowledgement{AlarmAcknowledged: true})
}

// Clear clears the alarm with identifier id by hand, with the merge patch
// {"perceivedSeverity": 5}. It is never retried. Only alarms whose
// definition clears manually can be cleared so; clearing one that clears
// automatically (AlarmDefinition.ClearingType ClearingAutomatic), or one
// cleared already, is a ProblemError with status 409 (IsConflict).
func (s *AlarmService) Clear(ctx context.Context, id string) error {
	return s.col.modify(ctx, id, alarmClearing{PerceivedSeverity: SeverityCleared})
}
