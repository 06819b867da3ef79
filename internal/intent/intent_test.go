package intent

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	fn := func(replicas int, names ...string) []Function {
		var out []Function
		for _, n := range names {
			out = append(out, Function{Name: n, Replicas: replicas})
		}
		return out
	}
	tests := []struct {
		name string
		in   Input
		want Requirements // Reasons are not compared
	}{
		{"the guide's intent", Input{Text: "Deploy 5G AMF with high availability in US West region"},
			Requirements{IntentType: "deployment", Functions: fn(2, "amf"), HighAvailability: true, Spread: 2, Region: "us-west"}},
		{"several functions in order", Input{Text: "deploy smf, upf and AMF"},
			Requirements{IntentType: "deployment", Functions: fn(1, "smf", "upf", "amf")}},
		{"replica count", Input{Text: "Run 3 replicas of the UPF in eu-central-1"},
			Requirements{IntentType: "deployment", Functions: fn(3, "upf"), Region: "eu-central-1"}},
		{"replica word", Input{Text: "two instances of nrf"},
			Requirements{IntentType: "deployment", Functions: fn(2, "nrf")}},
		{"HA keeps a larger count", Input{Text: "redundant AMF, 4 instances, Europe West"},
			Requirements{IntentType: "deployment", Functions: fn(4, "amf"), HighAvailability: true, Spread: 2, Region: "eu-west"}},
		{"HA abbreviations", Input{Text: "HA deployment of the Near-RT RIC"},
			Requirements{IntentType: "deployment", Functions: fn(2, "near-rt-ric"), HighAvailability: true, Spread: 2}},
		{"ric and xApps", Input{Text: "deploy the near rt ric with xApps"},
			Requirements{IntentType: "deployment", Functions: fn(1, "near-rt-ric", "xapp")}},
		{"network objectives", Input{Text: "UPF for URLLC with latency under 5 ms and 10 Gbps"},
			Requirements{IntentType: "deployment", Functions: fn(1, "upf"), Latency: "5ms", Bandwidth: "10Gbps", NetworkSlice: "urllc"}},
		{"resources", Input{Text: "smf with 2 cores and 4 GiB memory"},
			Requirements{IntentType: "deployment", Functions: fn(1, "smf"), CPU: "2", Memory: "4Gi"}},
		{"structured fields win", Input{Text: "deploy AMF in US West", TargetComponents: []string{"SMF", "pcf"}, Region: "ap_southeast_1", Replicas: 3, IntentType: "Scaling", NetworkSlice: "slice-7", CPU: "500m", Memory: "1Gi"},
			Requirements{IntentType: "scaling", Functions: fn(3, "smf", "pcf"), Region: "ap-southeast-1", NetworkSlice: "slice-7", CPU: "500m", Memory: "1Gi"}},
		{"region already normalised", Input{Text: "amf", Region: "lab-1"},
			Requirements{IntentType: "deployment", Functions: fn(1, "amf"), Region: "lab-1"}},
		{"latency needs the word", Input{Text: "amf in 5 ms"},
			Requirements{IntentType: "deployment", Functions: fn(1, "amf")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Reasons) == 0 {
				t.Error("no reasons recorded")
			}
			got.Reasons = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q)\n got %+v\nwant %+v", tt.in.Text, got, tt.want)
			}
			// Deterministic.
			again, _ := Parse(tt.in)
			again.Reasons = nil
			if !reflect.DeepEqual(again, got) {
				t.Fatal("a second parse differs")
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		in   Input
		want string
	}{
		{Input{}, "the text is empty"},
		{Input{Text: "make the network faster"}, "names no network function"},
		{Input{Text: "amf", TargetComponents: []string{"mme"}}, `"mme" is not a network function`},
		{Input{Text: "amf", IntentType: "destroy"}, `intentType: "destroy"`},
		{Input{Text: "amf", Replicas: 5000}, "replicas: must be between 1 and 1000"},
		{Input{Text: "amf", Region: "the moon!"}, `region: "the moon!"`},
		{Input{Text: strings.Repeat("amf ", 300)}, "at most 1000 characters"},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%+v) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestNormaliseRegion(t *testing.T) {
	for in, want := range map[string]string{
		"US West": "us-west", "us-west-2": "us-west-2", "US West 2": "us-west-2", "Europe Central": "eu-central", "eu_north_1": "eu-north-1",
		"Asia Pacific Southeast": "ap-southeast", "us west region": "us-west", "edge-lab": "edge-lab", "": "", "no such place!": "",
	} {
		if got := NormaliseRegion(in); got != want {
			t.Errorf("NormaliseRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
