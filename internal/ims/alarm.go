package ims

import "encoding/json"

// PerceivedSeverity is an alarm's severity as numbered by O2ims.
type PerceivedSeverity int

// Severities; SeverityCleared marks a cleared alarm.
const (
	SeverityCritical      PerceivedSeverity = 0
	SeverityMajor         PerceivedSeverity = 1
	SeverityMinor         PerceivedSeverity = 2
	SeverityWarning       PerceivedSeverity = 3
	SeverityIndeterminate PerceivedSeverity = 4
	SeverityCleared       PerceivedSeverity = 5
)

// AlarmEventType is the kind of an alarm notification.
type AlarmEventType int

// Alarm event types as numbered by O2ims.
const (
	AlarmNew         AlarmEventType = 0
	AlarmChange      AlarmEventType = 1
	AlarmClear       AlarmEventType = 2
	AlarmAcknowledge AlarmEventType = 3
)

// AlarmEventTypeNames maps event type names to their numbers.
var AlarmEventTypeNames = map[string]AlarmEventType{
	"NEW": AlarmNew, "CHANGE": AlarmChange, "CLEAR": AlarmClear, "ACKNOWLEDGE": AlarmAcknowledge,
}

// AlarmEventRecord is one alarm. JSON names keep the O2ims spelling,
// including the ID suffixes, because consumers filter on them. Times are
// formatted with query.TimeLayout so that they order as strings.
type AlarmEventRecord struct {
	AlarmEventRecordID    string            `json:"alarmEventRecordId"`
	AlarmDefinitionID     string            `json:"alarmDefinitionID"`
	ProbableCauseID       string            `json:"probableCauseID"`
	AlarmRaisedTime       string            `json:"alarmRaisedTime"`
	AlarmChangedTime      string            `json:"alarmChangedTime,omitempty"`
	AlarmClearedTime      string            `json:"alarmClearedTime,omitempty"`
	AlarmAcknowledgedTime string            `json:"alarmAcknowledgedTime,omitempty"`
	AlarmAcknowledged     bool              `json:"alarmAcknowledged"`
	ResourceTypeID        string            `json:"resourceTypeID"`
	ResourceID            string            `json:"resourceID"`
	PerceivedSeverity     PerceivedSeverity `json:"perceivedSeverity"`
	Extensions            Extensions        `json:"extensions,omitempty"`
}

// ClearingType tells whether an alarm clears by itself or by an operator.
type ClearingType string

// Clearing types.
const (
	ClearingAutomatic ClearingType = "AUTOMATIC"
	ClearingManual    ClearingType = "MANUAL"
)

// AlarmDefinition describes one alarm an O-Cloud may raise.
type AlarmDefinition struct {
	AlarmDefinitionID     string         `json:"alarmDefinitionId"`
	AlarmName             string         `json:"alarmName"`
	AlarmLastChange       string         `json:"alarmLastChange"`
	AlarmChangeType       string         `json:"alarmChangeType"`
	AlarmDescription      string         `json:"alarmDescription"`
	ProposedRepairActions string         `json:"proposedRepairActions"`
	ClearingType          ClearingType   `json:"clearingType"`
	ManagementInterfaceID []string       `json:"managementInterfaceId"`
	PKNotificationField   []string       `json:"pkNotificationField"`
	AlarmAdditionalFields map[string]any `json:"alarmAdditionalFields"`
	// ProbableCauseID links the definition to its probable cause.
	ProbableCauseID string `json:"-"`
	// Severity is the default severity of alarms of this definition.
	Severity PerceivedSeverity `json:"-"`
}

// MarshalJSON shows alarmAdditionalFields as {} when the definition has
// none. O2ims makes the attribute optional, but SMOs certified with the
// O-RAN SC compliance suite require it in every definition.
func (d AlarmDefinition) MarshalJSON() ([]byte, error) {
	type plain AlarmDefinition
	if d.AlarmAdditionalFields == nil {
		d.AlarmAdditionalFields = map[string]any{}
	}
	return json.Marshal(plain(d))
}

// AlarmDictionary is a versioned set of alarm definitions.
type AlarmDictionary struct {
	AlarmDictionaryID            string            `json:"alarmDictionaryId"`
	AlarmDictionaryVersion       string            `json:"alarmDictionaryVersion"`
	AlarmDictionarySchemaVersion string            `json:"alarmDictionarySchemaVersion"`
	EntityType                   string            `json:"entityType"`
	Vendor                       string            `json:"vendor"`
	ManagementInterfaceID        []string          `json:"managementInterfaceId"`
	PKNotificationField          []string          `json:"pkNotificationField"`
	AlarmDefinition              []AlarmDefinition `json:"alarmDefinition"`
}

// ProbableCause names a cause of alarms.
type ProbableCause struct {
	ProbableCauseID string `json:"probableCauseId"`
	Name            string `json:"name"`
	Description     string `json:"description"`
}

// AlarmServiceConfiguration configures the alarm service.
type AlarmServiceConfiguration struct {
	// RetentionPeriod is how many days cleared alarms are kept (at least 1).
	RetentionPeriod int        `json:"retentionPeriod"`
	Extensions      Extensions `json:"extensions,omitempty"`
}
