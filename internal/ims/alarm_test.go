package ims_test

import (
	"encoding/json"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

func TestAlarmDefinitionAdditionalFields(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"none", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"some", map[string]any{"source": "alertmanager"}, `{"source":"alertmanager"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := ims.AlarmDefinition{AlarmDefinitionID: "d1", AlarmName: "A", AlarmAdditionalFields: c.fields, ProbableCauseID: "p1", Severity: ims.SeverityMajor}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if string(got["alarmAdditionalFields"]) != c.want {
				t.Errorf("alarmAdditionalFields %s, want %s", got["alarmAdditionalFields"], c.want)
			}
			// The server-side attributes stay out; the rest round-trips.
			if _, ok := got["ProbableCauseID"]; ok || len(got) != 10 {
				t.Errorf("attributes %s", b)
			}
			var back ims.AlarmDefinition
			if err := json.Unmarshal(b, &back); err != nil || back.AlarmDefinitionID != "d1" || back.AlarmName != "A" {
				t.Errorf("round trip: %+v %v", back, err)
			}
			// Inside a dictionary too.
			b, _ = json.Marshal(ims.AlarmDictionary{AlarmDefinition: []ims.AlarmDefinition{d}})
			var dict struct {
				AlarmDefinition []map[string]json.RawMessage `json:"alarmDefinition"`
			}
			if err := json.Unmarshal(b, &dict); err != nil || string(dict.AlarmDefinition[0]["alarmAdditionalFields"]) != c.want {
				t.Errorf("in a dictionary: %s", b)
			}
		})
	}
}
