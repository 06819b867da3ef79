package o2

import (
	"context"
	"errors"
	"iter"
)

// ClearingType tells how an alarm is cleared.
type ClearingType string

// The clearing types of AlarmDefinition.ClearingType.
const (
	// ClearingAutomatic alarms clear when their condition ends; they
	// cannot be cleared by hand.
	ClearingAutomatic ClearingType = "AUTOMATIC"
	// ClearingManual alarms are cleared by an operator, with
	// AlarmService.Clear.
	ClearingManual ClearingType = "MANUAL"
)

// AlarmChangeType tells how an alarm definition last changed.
type AlarmChangeType string

// The change types of AlarmDefinition.AlarmChangeType.
const (
	AlarmChangeAdded    AlarmChangeType = "ADDED"
	AlarmChangeDeleted  AlarmChangeType = "DELETED"
	AlarmChangeModified AlarmChangeType = "MODIFIED"
)

// AlarmDictionary lists the alarms that objects of a resource type may
// raise.
type AlarmDictionary struct {
	// AlarmDictionaryID identifies the dictionary.
	AlarmDictionaryID string `json:"alarmDictionaryId"`
	// AlarmDictionaryVersion is the version of the dictionary.
	AlarmDictionaryVersion string `json:"alarmDictionaryVersion"`
	// AlarmDictionarySchemaVersion is the version of the dictionary
	// schema.
	AlarmDictionarySchemaVersion string `json:"alarmDictionarySchemaVersion"`
	// EntityType names what raises the alarms.
	EntityType string `json:"entityType"`
	// Vendor is the vendor of the entity.
	Vendor string `json:"vendor"`
	// ManagementInterfaceIDs are the interfaces the alarms are reported
	// on, such as "O2IMS".
	ManagementInterfaceIDs []string `json:"managementInterfaceId"`
	// PKNotificationFields name the notification fields identifying an
	// alarm definition.
	PKNotificationFields []string `json:"pkNotificationField"`
	// AlarmDefinitions are the alarms of the dictionary.
	AlarmDefinitions []AlarmDefinition `json:"alarmDefinition"`
}

// AlarmDefinition describes one alarm of an AlarmDictionary, referred to
// by AlarmEventRecord.AlarmDefinitionID.
type AlarmDefinition struct {
	// AlarmDefinitionID identifies the definition.
	AlarmDefinitionID string `json:"alarmDefinitionId"`
	// AlarmName is the alarm's name, such as "O2IMSProviderDown".
	AlarmName string `json:"alarmName"`
	// AlarmLastChange is the dictionary version the definition last
	// changed in.
	AlarmLastChange string `json:"alarmLastChange"`
	// AlarmChangeType tells how the definition last changed.
	AlarmChangeType AlarmChangeType `json:"alarmChangeType"`
	// AlarmDescription is a human-readable description.
	AlarmDescription string `json:"alarmDescription"`
	// ProposedRepairActions tells an operator what to do.
	ProposedRepairActions string `json:"proposedRepairActions"`
	// ClearingType tells whether the alarm clears automatically or by
	// hand.
	ClearingType ClearingType `json:"clearingType"`
	// ManagementInterfaceIDs are the interfaces the alarm is reported on.
	ManagementInterfaceIDs []string `json:"managementInterfaceId"`
	// PKNotificationFields name the notification fields identifying the
	// alarm definition.
	PKNotificationFields []string `json:"pkNotificationField"`
	// AlarmAdditionalFields are further attributes of the definition.
	AlarmAdditionalFields map[string]any `json:"alarmAdditionalFields,omitempty"`
}

// AlarmDictionaryService reads the alarm dictionaries of the inventory.
// Get one with Client.AlarmDictionaries.
type AlarmDictionaryService struct {
	c   *Client
	col collection[AlarmDictionary]
}

// AlarmDictionaries returns the service for the alarm dictionaries of the
// inventory.
func (c *Client) AlarmDictionaries() *AlarmDictionaryService {
	return &AlarmDictionaryService{c: c, col: newCollection[AlarmDictionary](c, "alarm dictionary", c.inventory, "alarmDictionaries")}
}

// List returns the page of alarm dictionaries opts select.
func (s *AlarmDictionaryService) List(ctx context.Context, opts ListOptions) (*Page[AlarmDictionary], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every alarm dictionary opts select, fetching pages of
// opts.Limit as needed.
func (s *AlarmDictionaryService) All(ctx context.Context, opts ListOptions) iter.Seq2[AlarmDictionary, error] {
	return s.col.all(ctx, opts)
}

// Get returns the alarm dictionary with identifier id.
func (s *AlarmDictionaryService) Get(ctx context.Context, id string) (*AlarmDictionary, error) {
	return s.col.get(ctx, id)
}

// ForResourceType returns the alarm dictionary of the resource type with
// identifier typeID. An unknown resource type is a ProblemError with
// status 404.
func (s *AlarmDictionaryService) ForResourceType(ctx context.Context, typeID string) (*AlarmDictionary, error) {
	if typeID == "" {
		return nil, errors.New("o2: empty resource type ID")
	}
	return newSingleton[AlarmDictionary](s.c, s.c.inventory, "resourceTypes", typeID, "alarmDictionary").get(ctx)
}
