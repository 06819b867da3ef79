package o2

import (
	"encoding/json"
	"strconv"
	"time"
)

// This file holds the bodies the IMS POSTs to subscription callbacks, for
// consumers that serve a callback with this package, and the event types
// subscription filters test as "notificationEventType".

// InventoryEventType is the kind of change an InventoryChangeNotification
// reports: a number in JSON and in filters, such as
// Eq("notificationEventType", InventoryEventDelete).
type InventoryEventType int

// The inventory event types.
const (
	InventoryEventCreate InventoryEventType = 0
	InventoryEventModify InventoryEventType = 1
	InventoryEventDelete InventoryEventType = 2
)

var inventoryEventNames = [...]string{"CREATE", "MODIFY", "DELETE"}

// String returns the name of t, such as "CREATE", or
// "InventoryEventType(n)" for an unknown number.
func (t InventoryEventType) String() string {
	if t >= 0 && int(t) < len(inventoryEventNames) {
		return inventoryEventNames[t]
	}
	return "InventoryEventType(" + strconv.Itoa(int(t)) + ")"
}

// AlarmEventType is the kind of alarm event an AlarmEventNotification
// reports: a number in JSON and in filters, such as
// Eq("notificationEventType", AlarmEventNew).
type AlarmEventType int

// The alarm event types.
const (
	// AlarmEventNew: an alarm was raised.
	AlarmEventNew AlarmEventType = 0
	// AlarmEventChange: an alarm's severity, resource or extensions
	// changed.
	AlarmEventChange AlarmEventType = 1
	// AlarmEventClear: an alarm was cleared.
	AlarmEventClear AlarmEventType = 2
	// AlarmEventAcknowledge: an alarm was acknowledged.
	AlarmEventAcknowledge AlarmEventType = 3
)

var alarmEventNames = [...]string{"NEW", "CHANGE", "CLEAR", "ACKNOWLEDGE"}

// String returns the O2ims name of t, such as "NEW", or
// "AlarmEventType(n)" for an unknown number.
func (t AlarmEventType) String() string {
	if t >= 0 && int(t) < len(alarmEventNames) {
		return alarmEventNames[t]
	}
	return "AlarmEventType(" + strconv.Itoa(int(t)) + ")"
}

// InventoryChangeNotification is the body the IMS POSTs to the callback of
// a Subscription for each change of the inventory its filter selects.
// Notifications are delivered at least once, in commit order; a
// redelivered one carries the same NotificationID.
type InventoryChangeNotification struct {
	// NotificationID identifies the notification.
	NotificationID string `json:"notificationId"`
	// ConsumerSubscriptionID is the consumer's identifier of the
	// subscription, when it has one.
	ConsumerSubscriptionID string `json:"consumerSubscriptionId,omitempty"`
	// NotificationEventType tells whether the object was created,
	// modified or deleted.
	NotificationEventType InventoryEventType `json:"notificationEventType"`
	// ObjectRef is the URI of the changed object.
	ObjectRef string `json:"objectRef"`
	// PriorObjectState is the object before the change; empty on create.
	// Decode it into the type ObjectRef names, such as ResourcePool.
	PriorObjectState json.RawMessage `json:"priorObjectState,omitempty"`
	// PostObjectState is the object after the change; empty on delete.
	PostObjectState json.RawMessage `json:"postObjectState,omitempty"`
}

// AlarmEventNotification is the body the IMS POSTs to the callback of an
// AlarmSubscription for each alarm event its filter selects.
type AlarmEventNotification struct {
	// NotificationID identifies the notification; a redelivered one
	// carries the same.
	NotificationID string `json:"notificationId,omitempty"`
	// GlobalCloudID identifies the O-Cloud as assigned by the SMO.
	GlobalCloudID string `json:"globalCloudID"`
	// ConsumerSubscriptionID is the consumer's identifier of the
	// subscription, when it has one.
	ConsumerSubscriptionID string `json:"consumerSubscriptionId,omitempty"`
	// NotificationEventType tells what happened to the alarm.
	NotificationEventType AlarmEventType `json:"notificationEventType"`
	// ObjectRef is the URI of the alarm.
	ObjectRef string `json:"objectRef"`
	// AlarmEventRecordID identifies the alarm.
	AlarmEventRecordID string `json:"alarmEventRecordId"`
	// ResourceTypeID identifies the type of the alarmed resource.
	ResourceTypeID string `json:"resourceTypeID"`
	// ResourceID identifies the alarmed resource, or the O-Cloud.
	ResourceID string `json:"resourceID"`
	// AlarmDefinitionID identifies the definition of the alarm.
	AlarmDefinitionID string `json:"alarmDefinitionID"`
	// ProbableCauseID identifies the probable cause.
	ProbableCauseID string `json:"probableCauseID"`
	// AlarmRaisedTime is when the alarm was raised.
	AlarmRaisedTime time.Time `json:"alarmRaisedTime,omitzero"`
	// AlarmChangedTime is when the alarm last changed.
	AlarmChangedTime time.Time `json:"alarmChangedTime,omitzero"`
	// AlarmAcknowledgedTime is when the alarm was acknowledged; the
	// O2ims name of the attribute is alarmAcknowledgeTime.
	AlarmAcknowledgedTime time.Time `json:"alarmAcknowledgeTime,omitzero"`
	// AlarmAcknowledged tells whether the alarm was acknowledged.
	AlarmAcknowledged bool `json:"alarmAcknowledged"`
	// PerceivedSeverity is the severity; SeverityCleared once cleared.
	PerceivedSeverity PerceivedSeverity `json:"perceivedSeverity"`
	// Extensions are implementation-specific attributes of the alarm.
	Extensions map[string]any `json:"extensions,omitempty"`
}
