// Package intent turns a network intent — free text such as "Deploy 5G
// AMF with high availability in US West region" plus the structured
// fields of a NetworkIntent — into requirements: the network functions
// with their replicas, the region, the spread over pools, resources and
// network objectives. The analysis is rule based and deterministic: the
// same intent always gives the same requirements.
package intent

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// Functions are the network functions an intent can name, as the
// NetworkIntent's targetComponents spell them.
var Functions = []string{"amf", "smf", "upf", "nrf", "udm", "udr", "pcf", "ausf", "nssf", "near-rt-ric", "xapp"}

// Input is an intent: its text and the structured fields that override
// what the text says.
type Input struct {
	Text             string
	IntentType       string   // deployment (default), optimization, scaling, maintenance
	TargetComponents []string // network functions; the text's when empty
	Region           string
	NetworkSlice     string
	// Replicas, when above 0, is the replica count of every function.
	Replicas int
	CPU      string // per replica, a Kubernetes quantity
	Memory   string
}

// Function is one network function to run.
type Function struct {
	Name     string
	Replicas int
}

// Requirements are what an intent asks for.
type Requirements struct {
	IntentType string
	Functions  []Function
	// HighAvailability: at least 2 replicas of each function, spread
	// over distinct pools.
	HighAvailability bool
	// Spread is the number of distinct pools per function (0: any).
	Spread int
	// Region is normalised: "US West" → "us-west".
	Region       string
	CPU, Memory  string
	Latency      string // e.g. "10ms"
	Bandwidth    string // e.g. "10Gbps"
	NetworkSlice string // e.g. "embb", "urllc", "mmtc", or the given id
	// Reasons say which words gave which requirement, for the record.
	Reasons []string
}

var (
	// aliases spell network functions the way people write them.
	aliases = map[string]string{
		"near-rt-ric": "near-rt-ric", "near rt ric": "near-rt-ric", "nearrt-ric": "near-rt-ric", "near-rt ric": "near-rt-ric",
		"ric": "near-rt-ric", "xapp": "xapp", "xapps": "xapp",
	}
	wordRe        = regexp.MustCompile(`[a-z0-9]+(?:-[a-z0-9]+)*`)
	replicasRe    = regexp.MustCompile(`\b(\d{1,4})\s*(?:x\s*)?(?:replicas?|instances?|copies|pods?)\b`)
	replicaWordRe = regexp.MustCompile(`\b(one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:replicas?|instances?|copies|pods?)\b`)
	haRe          = regexp.MustCompile(`\b(high(?:ly)?[\s-]+availab(?:le|ility)|ha|redundan(?:t|cy)|resilien(?:t|ce)|fault[\s-]+toleran(?:t|ce)|failover)\b`)
	regionRe      = regexp.MustCompile(`\b(us|eu|europe|ap|asia[\s-]+pacific|apac|ca|canada|sa|south[\s-]+america|me|middle[\s-]+east|af|africa)[\s-]+(west|east|north|south|central|northeast|northwest|southeast|southwest)(?:[\s-]+(\d))?\b`)
	latencyRe     = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*(ms|milliseconds?|us|µs|microseconds?)\b`)
	bandwidthRe   = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*(gbps|mbps|kbps|tbps|gbit/s|mbit/s)\b`)
	cpuRe         = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*(?:v?cpus?|cores?|vcores?)\b`)
	memoryRe      = regexp.MustCompile(`\b(\d+(?:\.\d+)?)\s*(gi|gib|gb|mi|mib|mb)\s*(?:of\s+)?(?:memory|ram)?\b`)
	sliceRe       = regexp.MustCompile(`\b(embb|urllc|mmtc|miot|v2x)\b`)
	numberWords   = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
	regionWords   = map[string]string{"europe": "eu", "asia pacific": "ap", "asia-pacific": "ap", "apac": "ap", "canada": "ca", "south america": "sa",
		"south-america": "sa", "middle east": "me", "middle-east": "me", "africa": "af"}
	intentTypes = []string{"deployment", "optimization", "scaling", "maintenance"}
	labelRe     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
)

// Parse analyses an intent. An intent naming no network function, or
// with fields out of range, is refused with an error naming the problem.
func Parse(in Input) (Requirements, error) {
	text := strings.ToLower(strings.TrimSpace(in.Text))
	if text == "" && len(in.TargetComponents) == 0 {
		return Requirements{}, ims.Errorf(ims.EINVALID, "intent: the text is empty and no target components are given")
	}
	if len(in.Text) > 1000 {
		return Requirements{}, ims.Errorf(ims.EINVALID, "intent: at most 1000 characters")
	}
	r := Requirements{IntentType: "deployment"}
	if in.IntentType != "" {
		t := strings.ToLower(in.IntentType)
		if !slices.Contains(intentTypes, t) {
			return Requirements{}, ims.Errorf(ims.EINVALID, "intentType: %q is not one of %s", in.IntentType, strings.Join(intentTypes, ", "))
		}
		r.IntentType = t
	}

	// Network functions: the structured list wins over the text.
	var names []string
	if len(in.TargetComponents) > 0 {
		for _, c := range in.TargetComponents {
			n := normaliseFunction(c)
			if n == "" {
				return Requirements{}, ims.Errorf(ims.EINVALID, "targetComponents: %q is not a network function (%s)", c, strings.Join(Functions, ", "))
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		r.Reasons = append(r.Reasons, "network functions from targetComponents: "+strings.Join(names, ", "))
	} else {
		names = functionsIn(text)
		if len(names) == 0 {
			return Requirements{}, ims.Errorf(ims.EUNPROCESSABLE, "intent: names no network function (%s)", strings.Join(Functions, ", "))
		}
		r.Reasons = append(r.Reasons, "network functions named in the text: "+strings.Join(names, ", "))
	}

	replicas := 1
	if m := replicasRe.FindStringSubmatch(text); m != nil {
		replicas, _ = strconv.Atoi(m[1])
		r.Reasons = append(r.Reasons, fmt.Sprintf("%q: %d replicas", m[0], replicas))
	} else if m := replicaWordRe.FindStringSubmatch(text); m != nil {
		replicas = numberWords[m[1]]
		r.Reasons = append(r.Reasons, fmt.Sprintf("%q: %d replicas", m[0], replicas))
	}
	if in.Replicas > 0 {
		replicas = in.Replicas
	}
	if m := haRe.FindString(text); m != "" {
		r.HighAvailability = true
		r.Spread = 2
		if replicas < 2 {
			replicas = 2
		}
		r.Reasons = append(r.Reasons, fmt.Sprintf("%q: at least 2 replicas on distinct pools", m))
	}
	if replicas < 1 || replicas > 1000 {
		return Requirements{}, ims.Errorf(ims.EINVALID, "replicas: must be between 1 and 1000, got %d", replicas)
	}
	for _, n := range names {
		r.Functions = append(r.Functions, Function{Name: n, Replicas: replicas})
	}

	switch {
	case in.Region != "":
		r.Region = NormaliseRegion(in.Region)
		if r.Region == "" {
			return Requirements{}, ims.Errorf(ims.EINVALID, "region: %q is not a region name", in.Region)
		}
	default:
		if m := regionRe.FindStringSubmatch(text); m != nil {
			r.Region = NormaliseRegion(m[0])
			r.Reasons = append(r.Reasons, fmt.Sprintf("%q: region %s", m[0], r.Region))
		}
	}

	if m := latencyRe.FindStringSubmatch(text); m != nil && strings.Contains(text, "latency") {
		unit := "ms"
		if strings.HasPrefix(m[2], "u") || strings.HasPrefix(m[2], "µ") || strings.HasPrefix(m[2], "micro") {
			unit = "us"
		}
		r.Latency = m[1] + unit
	}
	if m := bandwidthRe.FindStringSubmatch(text); m != nil {
		unit := map[string]string{"gbps": "Gbps", "mbps": "Mbps", "kbps": "Kbps", "tbps": "Tbps", "gbit/s": "Gbps", "mbit/s": "Mbps"}[m[2]]
		r.Bandwidth = m[1] + unit
	}
	if m := cpuRe.FindStringSubmatch(text); m != nil {
		r.CPU = m[1]
	}
	if m := memoryRe.FindStringSubmatch(text); m != nil && (strings.Contains(m[0], "mem") || strings.Contains(m[0], "ram") || strings.Contains(text, "memory")) {
		unit := map[string]string{"gi": "Gi", "gib": "Gi", "gb": "Gi", "mi": "Mi", "mib": "Mi", "mb": "Mi"}[m[2]]
		r.Memory = m[1] + unit
	}
	if in.CPU != "" {
		r.CPU = in.CPU
	}
	if in.Memory != "" {
		r.Memory = in.Memory
	}
	switch {
	case in.NetworkSlice != "":
		r.NetworkSlice = in.NetworkSlice
	default:
		if m := sliceRe.FindString(text); m != "" {
			r.NetworkSlice = m
		}
	}
	return r, nil
}

// functionsIn lists the network functions the text names, in order of
// first mention.
func functionsIn(text string) []string {
	var out []string
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	// Multi-word names first, then words.
	type hit struct {
		at   int
		name string
	}
	var hits []hit
	for alias, n := range aliases {
		if strings.Contains(alias, " ") || strings.Contains(alias, "-") {
			if i := strings.Index(text, alias); i >= 0 {
				hits = append(hits, hit{i, n})
			}
		}
	}
	for _, loc := range wordRe.FindAllStringIndex(text, -1) {
		w := text[loc[0]:loc[1]]
		if n := normaliseFunction(w); n != "" {
			hits = append(hits, hit{loc[0], n})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at - b.at })
	for _, h := range hits {
		add(h.name)
	}
	return out
}

// normaliseFunction maps a spelling of a network function to its name,
// or "".
func normaliseFunction(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if slices.Contains(Functions, s) {
		return s
	}
	if n, ok := aliases[s]; ok {
		return n
	}
	return ""
}

// NormaliseRegion turns "US West", "us_west_2", "Europe Central" into
// "us-west", "us-west-2", "eu-central"; a name already in that form is
// kept. It returns "" for text that is not a region name.
func NormaliseRegion(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("_", "-", "  ", " ").Replace(s)
	s = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(s, "region")), " ")
	if m := regionRe.FindStringSubmatch(s); m != nil {
		area := m[1]
		if a, ok := regionWords[area]; ok {
			area = a
		}
		out := area + "-" + m[2]
		if m[3] != "" {
			out += "-" + m[3]
		}
		return out
	}
	if labelRe.MatchString(s) {
		return s
	}
	return ""
}
