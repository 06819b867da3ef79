// Package alarms raises, changes, acknowledges and clears alarms on the
// O-Cloud, ships the alarm dictionary they are defined in, receives
// Alertmanager webhooks and enforces the alarm retention period.
package alarms

import (
	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// RecordSchema is the queryable shape of alarm event records.
var RecordSchema = &query.Schema{
	Name: "alarms", Object: "alarm", DocColumn: "doc",
	Attrs: []query.Attr{
		{Name: "alarmEventRecordId", Type: query.String, Column: "id"},
		{Name: "alarmDefinitionID", Type: query.String, Column: "definition_id"},
		{Name: "probableCauseID", Type: query.String, Column: "probable_cause_id"},
		{Name: "alarmRaisedTime", Type: query.Time, Column: "raised_time"},
		{Name: "alarmChangedTime", Type: query.Time, Column: "changed_time"},
		{Name: "alarmClearedTime", Type: query.Time, Column: "cleared_time"},
		{Name: "alarmAcknowledgedTime", Type: query.Time},
		{Name: "alarmAcknowledged", Type: query.Bool, Column: "acknowledged"},
		{Name: "resourceTypeID", Type: query.String, Column: "resource_type_id"},
		{Name: "resourceID", Type: query.String, Column: "resource_id"},
		{Name: "perceivedSeverity", Type: query.Number, Column: "severity"},
		// The alarm list shows extensions by default: an alarm's text (the
		// Alertmanager alert name, its summary) is there.
		{Name: "extensions", Type: query.Object, Complex: true, Always: true},
	},
}

// Identifiers of the shipped dictionary are name-based UUIDs, so they are
// the same on every installation and release.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:alarms"))

func id(name string) string { return uuid.NewSHA1(namespace, []byte(name)).String() }

// Alarm definition names.
const (
	ProviderDown        = "O2IMSProviderDown"
	PoolUtilization     = "O2IMSResourcePoolUtilization"
	ResourceUnhealthy   = "O2IMSResourceUnhealthy"
	ResourceDisappeared = "O2IMSResourceDisappeared"
	ExternalAlert       = "O2IMSExternalAlert"
	CnfOperationFailed  = "O2IMSCnfOperationFailed"
	DeploymentFailed    = "O2IMSDeploymentFailed"
	EdgeNodeUnreachable = "O2IMSEdgeNodeUnreachable"
)

// Probable causes shipped with the server.
var ProbableCauses = []ims.ProbableCause{
	{ProbableCauseID: id("cause/provider-unreachable"), Name: "Provider unreachable", Description: "The IMS cannot reach or discover an infrastructure provider (a cluster API server, a cloud account, an edge agent)."},
	{ProbableCauseID: id("cause/threshold-crossed"), Name: "Threshold crossed", Description: "A resource pool's utilization crossed the configured threshold."},
	{ProbableCauseID: id("cause/resource-unhealthy"), Name: "Resource unhealthy", Description: "The provider reports the resource as not healthy (for example a NotReady node)."},
	{ProbableCauseID: id("cause/resource-disappeared"), Name: "Resource disappeared", Description: "A resource is no longer reported by its provider."},
	{ProbableCauseID: id("cause/external-alert"), Name: "External alert", Description: "An alert forwarded by Prometheus Alertmanager."},
	{ProbableCauseID: id("cause/lcm-operation-failed"), Name: "Lifecycle operation failed", Description: "A CNF instantiate, scale or terminate operation failed."},
	{ProbableCauseID: id("cause/deployment-failed"), Name: "Deployment failed", Description: "A deployment could not be realized on the pools it was placed on."},
	{ProbableCauseID: id("cause/edge-node-lease-expired"), Name: "Edge node lease expired", Description: "An enrolled edge node's agent sent no heartbeat within the grace period (node down, agent stopped, or network path lost)."},
}

// Dictionary is the alarm dictionary shipped with the server; it applies to
// every resource type.
var Dictionary = ims.AlarmDictionary{
	AlarmDictionaryID:            id("dictionary/nephoran-o2ims"),
	AlarmDictionaryVersion:       "1.1.0",
	AlarmDictionarySchemaVersion: "1.0",
	EntityType:                   "nephoran-o2ims",
	Vendor:                       "Nephoran",
	ManagementInterfaceID:        []string{"O2IMS"},
	PKNotificationField:          []string{"alarmDefinitionID"},
	AlarmDefinition: []ims.AlarmDefinition{
		def(ProviderDown, "An infrastructure provider cannot be reached.", "Check the provider's endpoint, credentials and network path; the alarm clears when discovery succeeds again.", ims.ClearingAutomatic, "cause/provider-unreachable", ims.SeverityMajor),
		def(PoolUtilization, "A resource pool's CPU or memory utilization is above the threshold.", "Add capacity to the pool or move workloads; the alarm clears when utilization falls below the threshold.", ims.ClearingAutomatic, "cause/threshold-crossed", ims.SeverityWarning),
		def(ResourceUnhealthy, "A resource is reported unhealthy by its provider.", "Inspect the resource (for a node: kubelet, network, disk pressure); the alarm clears when it is healthy again.", ims.ClearingAutomatic, "cause/resource-unhealthy", ims.SeverityMajor),
		def(ResourceDisappeared, "A resource was removed from the inventory by its provider.", "Confirm whether the removal was intended, then clear the alarm.", ims.ClearingManual, "cause/resource-disappeared", ims.SeverityMinor),
		def(ExternalAlert, "An alert received from Prometheus Alertmanager.", "See the alert's annotations in the alarm's extensions; the alarm clears when the alert resolves.", ims.ClearingAutomatic, "cause/external-alert", ims.SeverityIndeterminate),
		def(CnfOperationFailed, "A CNF lifecycle operation failed; what it had created was removed.", "Read the operation's error (lcmOpOccs), correct the package or parameters and retry; then clear the alarm.", ims.ClearingManual, "cause/lcm-operation-failed", ims.SeverityMajor),
		def(DeploymentFailed, "A deployment failed; the CNF instances it had created were terminated and its capacity released.", "Read the deployment's status.error and placement decisions, correct the spec or the pools, then delete and re-create it; then clear the alarm.", ims.ClearingManual, "cause/deployment-failed", ims.SeverityMajor),
		addedIn("1.1.0", def(EdgeNodeUnreachable, "An enrolled edge node's agent has not sent a heartbeat within the grace period.", "Check that the node is up, that its o2ims agent runs, and the network path to the agent listener; the alarm clears with the node's next heartbeat.", ims.ClearingAutomatic, "cause/edge-node-lease-expired", ims.SeverityMajor)),
	},
}

func def(name, desc, repair string, clearing ims.ClearingType, cause string, sev ims.PerceivedSeverity) ims.AlarmDefinition {
	return ims.AlarmDefinition{
		AlarmDefinitionID:     id("definition/" + name),
		AlarmName:             name,
		AlarmLastChange:       "1.0.0",
		AlarmChangeType:       "ADDED",
		AlarmDescription:      desc,
		ProposedRepairActions: repair,
		ClearingType:          clearing,
		ManagementInterfaceID: []string{"O2IMS"},
		PKNotificationField:   []string{"alarmDefinitionID"},
		ProbableCauseID:       id(cause),
		Severity:              sev,
	}
}

// addedIn marks a definition added in dictionary version v.
func addedIn(v string, d ims.AlarmDefinition) ims.AlarmDefinition {
	d.AlarmLastChange = v
	return d
}

// Definition returns the definition called name.
func Definition(name string) ims.AlarmDefinition {
	for _, d := range Dictionary.AlarmDefinition {
		if d.AlarmName == name {
			return d
		}
	}
	return ims.AlarmDefinition{AlarmName: name}
}

// definitionByID returns the definition with id.
func definitionByID(defID string) (ims.AlarmDefinition, bool) {
	for _, d := range Dictionary.AlarmDefinition {
		if d.AlarmDefinitionID == defID {
			return d, true
		}
	}
	return ims.AlarmDefinition{}, false
}
