package subscription

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

func TestValidate(t *testing.T) {
	inv, alarm := sqlstore.StreamInventory, sqlstore.StreamAlarm
	tests := []struct {
		stream string
		filter string
		want   string // substring of the error; "" means valid
	}{
		{inv, "", ""},
		// objectType
		{inv, "(eq,objectType,ResourceType)", ""},
		{inv, "(eq,objectType,ResourcePool)", ""},
		{inv, "(eq,objectType,Resource)", ""},
		{inv, "(eq,objectType,DeploymentManager)", ""},
		{inv, "(in,objectType,Resource,DeploymentManager)", ""},
		{inv, "(neq,objectType,Resource)", ""},
		{inv, "(nin,objectType,Resource,ResourceType)", ""},
		{inv, "(eq,objectType,Deployment)", ""},
		{inv, "(eq,objectType,Deployment);(eq,status/phase,FAILED)", ""},
		{inv, "(eq,objectType,Alarm)", `unknown objectType "Alarm"`},
		{inv, "(eq,objectType,resourcePool)", `unknown objectType "resourcePool"`},
		{inv, "(in,objectType,Resource,Pool)", `unknown objectType "Pool"`},
		{inv, "(cont,objectType,Res)", "takes only eq, neq, in or nin"},
		{inv, "(gt,objectType,Resource)", "takes only eq, neq, in or nin"},
		{inv, "(eq,objectType,ResourcePool);(eq,objectType,Resource)", "exclude every object type"},
		{alarm, "(eq,objectType,Resource)", "inventory subscriptions only"},
		// notificationEventType of inventory streams, by name or number
		{inv, "(eq,notificationEventType,CREATE)", ""},
		{inv, "(eq,notificationEventType,modify)", ""},
		{inv, "(in,notificationEventType,DELETE,0)", ""},
		{inv, "(eq,notificationEventType,2)", ""},
		{inv, "(neq,notificationEventType,1)", ""},
		{inv, "(eq,notificationEventType,3)", `unknown notificationEventType "3"`},
		{inv, "(eq,notificationEventType,-1)", `unknown notificationEventType "-1"`},
		{inv, "(eq,notificationEventType,NEW)", `unknown notificationEventType "NEW"`},
		{inv, "(eq,notificationEventType,UPDATE)", `unknown notificationEventType "UPDATE"`},
		{inv, "(gt,notificationEventType,0)", "takes only eq, neq, in or nin"},
		// notificationEventType of alarm streams
		{alarm, "(eq,notificationEventType,NEW)", ""},
		{alarm, "(in,notificationEventType,CHANGE,clear,ACKNOWLEDGE)", ""},
		{alarm, "(eq,notificationEventType,3)", ""},
		{alarm, "(eq,notificationEventType,4)", `unknown notificationEventType "4"`},
		{alarm, "(eq,notificationEventType,CREATE)", `unknown notificationEventType "CREATE"`},
		// Unknown attributes name the term.
		{inv, "(eq,colour,red)", "(eq,colour,red)"},
		{inv, "(eq,name,a);(eq,colour,red)", `unknown attribute "colour"`},
		{alarm, "(eq,name,x)", "(eq,name,x)"},
		{alarm, "(eq,perceivedSeverity,high)", "(eq,perceivedSeverity,high)"},
		{inv, "(eq,extensions,x)", "(eq,extensions,x)"},
		// A term valid for one candidate object type is accepted...
		{inv, "(eq,tags,disk)", ""},                              // Resource only
		{inv, "(eq,serviceUri,http://x)", ""},                    // DeploymentManager only
		{inv, "(eq,resourceClass,STORAGE)", ""},                  // ResourceType only
		{inv, "(eq,globalLocationId,loc-1)", ""},                 // ResourcePool only
		{inv, "(eq,resourcePoolId,p);(eq,name,east)", ""},        // each on some type
		{inv, "(eq,extensions/zone,east);(eq,name,a)", ""},       // nested keys
		{inv, "(eq,objectType,Resource);(eq,tags,disk)", ""},     // narrowed and valid
		{alarm, "(eq,perceivedSeverity,0)", ""},                  // alarm attributes
		{alarm, "(eq,alarmAcknowledged,false)", ""},              //
		{alarm, "(gt,alarmRaisedTime,2024-01-01T00:00:00Z)", ""}, //
		// ...but not when the objectType terms exclude that type.
		{inv, "(eq,objectType,ResourceType);(eq,tags,disk)", "(eq,tags,disk)"},
		{inv, "(in,objectType,ResourcePool,ResourceType);(eq,serviceUri,x)", "(eq,serviceUri,x)"},
	}
	m := NewMatchers()
	for _, tc := range tests {
		t.Run(tc.stream+" "+tc.filter, func(t *testing.T) {
			f, err := query.ParseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			err = m.Validate(Kind{Stream: tc.stream, Major: 1}, f)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted, want an error mentioning %q", tc.want)
			}
			if code := ims.ErrorCode(err); code != ims.EINVALID {
				t.Fatalf("error code %q (%v), want %q", code, err, ims.EINVALID)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func poolDoc(t testing.TB, id, name string) json.RawMessage {
	return mustJSON(t, ims.ResourcePool{ResourcePoolID: id, Name: name, Extensions: ims.Extensions{"zone": "z-" + name}})
}

func resourceDoc(t testing.TB, id, pool string, tags ...string) json.RawMessage {
	return mustJSON(t, ims.Resource{ResourceID: id, ResourcePoolID: pool, ResourceTypeID: "rt-1", Tags: tags})
}

func invEvent(seq int64, table, id string, op sqlstore.Op, prior, post json.RawMessage) sqlstore.Event {
	return sqlstore.Event{Seq: seq, Stream: sqlstore.StreamInventory, ObjectType: table, ObjectID: id, EventType: int(op), Prior: prior, Post: post, CreatedAt: time.Now()}
}

func alarmRecord(id string, sev ims.PerceivedSeverity) ims.AlarmEventRecord {
	return ims.AlarmEventRecord{
		AlarmEventRecordID: id, AlarmDefinitionID: "def-1", ProbableCauseID: "pc-1",
		AlarmRaisedTime: "2025-01-02T03:04:05.000Z", ResourceTypeID: "rt-1", ResourceID: "res-1", PerceivedSeverity: sev,
	}
}

func alarmEvent(t testing.TB, seq int64, typ ims.AlarmEventType, prior *ims.AlarmEventRecord, post ims.AlarmEventRecord) sqlstore.Event {
	ev := sqlstore.Event{Seq: seq, Stream: sqlstore.StreamAlarm, ObjectType: "alarms", ObjectID: post.AlarmEventRecordID, EventType: int(typ), Post: mustJSON(t, post), CreatedAt: time.Now()}
	if prior != nil {
		ev.Prior = mustJSON(t, prior)
	}
	return ev
}

func TestMatch(t *testing.T) {
	pools := inventory.ResourcePoolSchema.Name
	resources := inventory.ResourceSchema.Name
	types := inventory.ResourceTypeSchema.Name
	dms := inventory.DeploymentManagerSchema.Name

	createEast := invEvent(1, pools, "p1", sqlstore.OpCreate, nil, poolDoc(t, "p1", "east"))
	renameEastWest := invEvent(2, pools, "p1", sqlstore.OpModify, poolDoc(t, "p1", "east"), poolDoc(t, "p1", "west"))
	renameWestNorth := invEvent(3, pools, "p1", sqlstore.OpModify, poolDoc(t, "p1", "west"), poolDoc(t, "p1", "north"))
	deleteEast := invEvent(4, pools, "p2", sqlstore.OpDelete, poolDoc(t, "p2", "east"), nil)
	createWest := invEvent(5, pools, "p3", sqlstore.OpCreate, nil, poolDoc(t, "p3", "west"))
	createDisk := invEvent(6, resources, "r1", sqlstore.OpCreate, nil, resourceDoc(t, "r1", "p1", "disk", "ssd"))
	untagDisk := invEvent(7, resources, "r1", sqlstore.OpModify, resourceDoc(t, "r1", "p1", "disk"), resourceDoc(t, "r1", "p1", "cpu"))
	createType := invEvent(8, types, "rt1", sqlstore.OpCreate, nil, mustJSON(t, ims.ResourceType{ResourceTypeID: "rt1", Name: "east", ResourceClass: "STORAGE"}))
	deleteDM := invEvent(9, dms, "dm1", sqlstore.OpDelete, mustJSON(t, ims.DeploymentManager{DeploymentManagerID: "dm1", Name: "east", ServiceURI: "http://dm"}), nil)
	all := []sqlstore.Event{createEast, renameEastWest, renameWestNorth, deleteEast, createWest, createDisk, untagDisk, createType, deleteDM}
	createDep := invEvent(10, deployment.Schema.Name, "d1", sqlstore.OpCreate, nil, []byte(`{"deploymentId":"d1","name":"core","status":{"phase":"PENDING"}}`))
	failDep := invEvent(11, deployment.Schema.Name, "d1", sqlstore.OpModify, []byte(`{"deploymentId":"d1","name":"core","status":{"phase":"DEPLOYING"}}`),
		[]byte(`{"deploymentId":"d1","name":"core","status":{"phase":"FAILED"}}`))
	withDeployments := append(slices.Clone(all), createDep, failDep)

	a1 := alarmRecord("a1", ims.SeverityMajor)
	a1Changed := a1
	a1Changed.PerceivedSeverity = ims.SeverityCritical
	a1Cleared := a1Changed
	a1Cleared.PerceivedSeverity = ims.SeverityCleared
	a1Acked := a1
	a1Acked.AlarmAcknowledged = true
	alarmNew := alarmEvent(t, 1, ims.AlarmNew, nil, a1)
	alarmChange := alarmEvent(t, 2, ims.AlarmChange, &a1, a1Changed)
	alarmClear := alarmEvent(t, 3, ims.AlarmClear, &a1Changed, a1Cleared)
	alarmAck := alarmEvent(t, 4, ims.AlarmAcknowledge, &a1, a1Acked)
	alarmOther := alarmEvent(t, 5, ims.AlarmNew, nil, func() ims.AlarmEventRecord {
		r := alarmRecord("a2", ims.SeverityMinor)
		r.ResourceID = "res-2"
		return r
	}())
	allAlarms := []sqlstore.Event{alarmNew, alarmChange, alarmClear, alarmAck, alarmOther}

	tests := []struct {
		name   string
		stream string
		filter string
		events []sqlstore.Event
		want   []int64 // seqs that match
	}{
		{"unfiltered", sqlstore.StreamInventory, "", all, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		// The object terms hold on the prior or the post state: a pool
		// renamed away from east still concerns (eq,name,east), and one
		// deleted as east too, but a rename west→north does not.
		{"prior or post", sqlstore.StreamInventory, "(eq,objectType,ResourcePool);(eq,name,east)", all, []int64{1, 2, 4}},
		{"name across types", sqlstore.StreamInventory, "(eq,name,east)", all, []int64{1, 2, 4, 8, 9}},
		{"neq on both states", sqlstore.StreamInventory, "(eq,objectType,ResourcePool);(neq,name,west)", all, []int64{1, 2, 3, 4}},
		{"nested extension", sqlstore.StreamInventory, "(eq,extensions/zone,z-west)", all, []int64{2, 3, 5}},
		{"list attribute in prior", sqlstore.StreamInventory, "(eq,tags,disk)", all, []int64{6, 7}},
		{"list attribute in post only", sqlstore.StreamInventory, "(eq,tags,ssd)", all, []int64{6}},
		{"resource by pool", sqlstore.StreamInventory, "(eq,objectType,Resource);(eq,resourcePoolId,p1)", all, []int64{6, 7}},
		{"resourcePoolId also on pools", sqlstore.StreamInventory, "(eq,resourcePoolId,p1)", all, []int64{1, 2, 3, 6, 7}},
		{"objectType eq", sqlstore.StreamInventory, "(eq,objectType,Resource)", all, []int64{6, 7}},
		{"objectType in", sqlstore.StreamInventory, "(in,objectType,ResourceType,DeploymentManager)", all, []int64{8, 9}},
		{"objectType neq", sqlstore.StreamInventory, "(neq,objectType,ResourcePool)", all, []int64{6, 7, 8, 9}},
		{"objectType nin", sqlstore.StreamInventory, "(nin,objectType,ResourcePool,Resource)", all, []int64{8, 9}},
		{"event type by name", sqlstore.StreamInventory, "(eq,notificationEventType,CREATE)", all, []int64{1, 5, 6, 8}},
		{"event type lower case", sqlstore.StreamInventory, "(eq,notificationEventType,delete)", all, []int64{4, 9}},
		{"event type by number", sqlstore.StreamInventory, "(in,notificationEventType,1,2)", all, []int64{2, 3, 4, 7, 9}},
		{"event type neq", sqlstore.StreamInventory, "(neq,notificationEventType,MODIFY)", all, []int64{1, 4, 5, 6, 8, 9}},
		{"type and event and object", sqlstore.StreamInventory, "(eq,objectType,ResourcePool);(eq,notificationEventType,MODIFY);(eq,name,west)", all, []int64{2, 3}},
		{"no match", sqlstore.StreamInventory, "(eq,name,nowhere)", all, nil},
		// Deployments are inventory objects too.
		{"deployments", sqlstore.StreamInventory, "(eq,objectType,Deployment)", withDeployments, []int64{10, 11}},
		{"deployment failed", sqlstore.StreamInventory, "(eq,objectType,Deployment);(eq,status/phase,FAILED)", withDeployments, []int64{11}},
		{"not deployments", sqlstore.StreamInventory, "(neq,objectType,Deployment);(eq,notificationEventType,CREATE)", withDeployments, []int64{1, 5, 6, 8}},
		// Alarms.
		{"alarms unfiltered", sqlstore.StreamAlarm, "", allAlarms, []int64{1, 2, 3, 4, 5}},
		{"alarm NEW", sqlstore.StreamAlarm, "(eq,notificationEventType,NEW)", allAlarms, []int64{1, 5}},
		{"alarm CLEAR", sqlstore.StreamAlarm, "(eq,notificationEventType,CLEAR)", allAlarms, []int64{3}},
		{"alarm NEW or CLEAR by number", sqlstore.StreamAlarm, "(in,notificationEventType,0,2)", allAlarms, []int64{1, 3, 5}},
		{"alarm ACKNOWLEDGE", sqlstore.StreamAlarm, "(eq,notificationEventType,ACKNOWLEDGE)", allAlarms, []int64{4}},
		{"alarm by resource", sqlstore.StreamAlarm, "(eq,resourceID,res-1)", allAlarms, []int64{1, 2, 3, 4}},
		{"alarm severity prior or post", sqlstore.StreamAlarm, "(eq,perceivedSeverity,1)", allAlarms, []int64{1, 2, 4}},
		{"alarm cleared", sqlstore.StreamAlarm, "(eq,perceivedSeverity,5)", allAlarms, []int64{3}},
		{"alarm acknowledged", sqlstore.StreamAlarm, "(eq,alarmAcknowledged,true)", allAlarms, []int64{4}},
		{"alarm new and resource", sqlstore.StreamAlarm, "(eq,notificationEventType,NEW);(eq,resourceID,res-2)", allAlarms, []int64{5}},
	}
	m := NewMatchers()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := query.ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(Kind{Stream: tc.stream, Major: 1}, f); err != nil {
				t.Fatalf("filter %q invalid: %v", tc.filter, err)
			}
			sub := sqlstore.Subscription{ID: uuid.NewString(), Stream: tc.stream, Filter: tc.filter}
			var got []int64
			for _, ev := range tc.events {
				if m.Match(sub, ev) {
					got = append(got, ev.Seq)
				}
			}
			if !equalSeqs(got, tc.want) {
				t.Fatalf("filter %q matched %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The compiled filter is cached per subscription and follows a change of
// the subscription's filter; an unparsable stored filter matches nothing.
func TestMatchCache(t *testing.T) {
	m := NewMatchers()
	ev := invEvent(1, inventory.ResourcePoolSchema.Name, "p1", sqlstore.OpCreate, nil, poolDoc(t, "p1", "east"))
	sub := sqlstore.Subscription{ID: uuid.NewString(), Stream: sqlstore.StreamInventory, Filter: "(eq,name,east)"}
	if !m.Match(sub, ev) {
		t.Fatal("(eq,name,east) does not match a pool named east")
	}
	sub.Filter = "(eq,name,west)"
	if m.Match(sub, ev) {
		t.Fatal("a changed filter was not recompiled")
	}
	m.Forget(sub.ID)
	sub.Filter = "(eq,name"
	if m.Match(sub, ev) {
		t.Fatal("an unparsable filter matched")
	}
}
