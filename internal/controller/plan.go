// Package controller is the NetworkIntent controller (`o2ims controller`):
// it watches nephoran.com/v1 NetworkIntents in a Kubernetes cluster, turns
// each into an O2 deployment through the IMS's API, keeps the deployment
// in step with the intent and mirrors the deployment's phase back into the
// intent's status. It talks to the IMS only through the Go SDK
// (pkg/client), as any other consumer does.
package controller

//go:generate go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 rbac:roleName=o2ims-controller paths=. output:rbac:dir=../../deploy/rbac

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nephoran/o2ims/internal/intent"
	nephv1 "github.com/nephoran/o2ims/pkg/apis/nephoran/v1"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// The extensions that mark a deployment as an intent's.
const (
	// ExtIntent is "<namespace>/<name>" of the intent.
	ExtIntent = "nephoran.com/intent"
	// ExtIntentUID is the intent's UID: a deployment is the intent's only
	// when it carries this UID, so a new intent of the same name never
	// adopts the deployment of a deleted one.
	ExtIntentUID = "nephoran.com/intent-uid"
)

// maxNameLen is the longest deployment name the IMS accepts.
const maxNameLen = 40

// DeploymentName is the name of the deployment of the intent namespace/
// name: the intent's name, shortened to fit, and a suffix derived from the
// namespace and name, so intents of the same name in two namespaces get
// two deployments and a restarted controller finds the one it made.
func DeploymentName(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	suffix := hex.EncodeToString(sum[:3])
	base := strings.ReplaceAll(strings.ToLower(name), ".", "-")
	if n := maxNameLen - len(suffix) - 1; len(base) > n {
		base = base[:n]
	}
	base = strings.Trim(base, "-")
	if base == "" {
		return "ni-" + suffix
	}
	return base + "-" + suffix
}

// parameters are the keys of spec.parameters the controller reads.
type parameters struct {
	// Replicas of every network function.
	Replicas int `json:"replicas,omitempty"`
	// Failover re-places a part whose pool fails.
	Failover bool `json:"failover,omitempty"`
}

func readParameters(ni *nephv1.NetworkIntent) (parameters, error) {
	var p parameters
	if ni.Spec.Parameters == nil || len(ni.Spec.Parameters.Raw) == 0 {
		return p, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ni.Spec.Parameters.Raw, &raw); err != nil {
		return p, fmt.Errorf("spec.parameters: not an object")
	}
	if v, ok := raw["replicas"]; ok {
		if err := json.Unmarshal(v, &p.Replicas); err != nil || p.Replicas < 1 || p.Replicas > 1000 {
			return p, fmt.Errorf("spec.parameters.replicas: a whole number between 1 and 1000")
		}
	}
	if v, ok := raw["failover"]; ok {
		if err := json.Unmarshal(v, &p.Failover); err != nil {
			return p, fmt.Errorf("spec.parameters.failover: true or false")
		}
	}
	return p, nil
}

// Analyse reads the intent: its requirements as the rules find them.
func Analyse(ni *nephv1.NetworkIntent) (intent.Requirements, parameters, error) {
	params, err := readParameters(ni)
	if err != nil {
		return intent.Requirements{}, params, err
	}
	in := intent.Input{
		Text:         ni.Spec.Intent,
		IntentType:   string(ni.Spec.IntentType),
		Region:       ni.Spec.Region,
		NetworkSlice: ni.Spec.NetworkSlice,
		Replicas:     params.Replicas,
	}
	for _, c := range ni.Spec.TargetComponents {
		in.TargetComponents = append(in.TargetComponents, strings.ToLower(string(c)))
	}
	if rc := ni.Spec.ResourceConstraints; rc != nil {
		in.CPU, in.Memory = rc.CPU, rc.Memory
	}
	reqs, err := intent.Parse(in)
	return reqs, params, err
}

// Desired is the deployment the intent asks for, built by the rules and
// the catalog.
func Desired(ni *nephv1.NetworkIntent, reqs intent.Requirements, params parameters, catalog intent.Catalog) (*o2.DeploymentSpec, error) {
	comps, err := catalog.Components(reqs)
	if err != nil {
		return nil, err
	}
	spec := &o2.DeploymentSpec{Placement: &o2.PlacementRules{Spread: reqs.Spread}}
	for _, c := range comps {
		dc := o2.DeploymentComponent{Name: c.Name, VnfdID: c.VnfdID, PackageID: c.PackageID, FlavourID: c.FlavourID, Replicas: c.Replicas}
		if c.Resources != nil {
			dc.Resources = &o2.ComponentResources{CPU: c.Resources.CPU, Memory: c.Resources.Memory}
		}
		spec.Components = append(spec.Components, dc)
	}
	if reqs.Region != "" {
		spec.Placement.Regions = []string{reqs.Region}
	}
	if reqs.Latency != "" || reqs.Bandwidth != "" || reqs.NetworkSlice != "" {
		spec.NetworkRequirements = &o2.NetworkRequirements{Latency: reqs.Latency, Bandwidth: reqs.Bandwidth, SliceID: reqs.NetworkSlice}
	}
	return finish(ni, spec, params), nil
}

// finish sets what the controller decides whoever planned the deployment:
// its name, description, owner marks, target cluster and failover.
func finish(ni *nephv1.NetworkIntent, spec *o2.DeploymentSpec, params parameters) *o2.DeploymentSpec {
	spec.Name = DeploymentName(ni.Namespace, ni.Name)
	desc := ni.Spec.Description
	if desc == "" {
		desc = "NetworkIntent " + ni.Namespace + "/" + ni.Name + ": " + ni.Spec.Intent
	}
	if len(desc) > 1024 {
		desc = desc[:1024]
	}
	spec.Description = desc
	if ni.Spec.TargetCluster != "" {
		if spec.Placement == nil {
			spec.Placement = &o2.PlacementRules{}
		}
		spec.Placement.Providers = []string{ni.Spec.TargetCluster}
	}
	if ns := ni.Spec.TargetNamespace; ns != "" {
		for i := range spec.Components {
			spec.Components[i].Namespace = ns
		}
	}
	spec.Failover = spec.Failover || params.Failover
	spec.DryRun = false
	spec.Extensions = map[string]any{
		ExtIntent:    ni.Namespace + "/" + ni.Name,
		ExtIntentUID: string(ni.UID),
	}
	return spec
}

// ownedBy tells whether the deployment d is the intent's.
func ownedBy(d *o2.Deployment, ni *nephv1.NetworkIntent) bool {
	uid, _ := d.Extensions[ExtIntentUID].(string)
	return uid == string(ni.UID)
}

// drift compares the deployment d with the spec want. patch holds the
// changes the IMS makes in place (replicas, description); replace, when
// not empty, says why only a new deployment gives want.
func drift(d *o2.Deployment, want *o2.DeploymentSpec) (patch *o2.DeploymentPatch, replace string) {
	if len(d.Components) != len(want.Components) {
		return nil, fmt.Sprintf("the network functions changed from %s to %s", componentNames(d.Components), componentNames(want.Components))
	}
	p := &o2.DeploymentPatch{}
	for i, w := range want.Components {
		g := d.Components[i]
		switch {
		case g.Name != w.Name:
			return nil, fmt.Sprintf("the network functions changed from %s to %s", componentNames(d.Components), componentNames(want.Components))
		case g.VnfdID != w.VnfdID || g.PackageID != w.PackageID || (w.FlavourID != "" && g.FlavourID != w.FlavourID):
			return nil, fmt.Sprintf("the package of %s changed", w.Name)
		case !sameResources(g.Resources, w.Resources):
			return nil, fmt.Sprintf("the resources of %s changed", w.Name)
		case w.Namespace != "" && g.Namespace != w.Namespace:
			return nil, fmt.Sprintf("the namespace of %s changed", w.Name)
		}
		if replicas(g.Replicas) != replicas(w.Replicas) {
			p.Components = append(p.Components, o2.ComponentReplicas{Name: w.Name, Replicas: replicas(w.Replicas)})
		}
	}
	if why := placementDrift(d.Placement, want.Placement); why != "" {
		return nil, why
	}
	if d.Failover != want.Failover {
		return nil, "failover changed"
	}
	if d.Description != want.Description {
		desc := want.Description
		p.Description = &desc
	}
	if p.Description == nil && len(p.Components) == 0 {
		return nil, ""
	}
	return p, ""
}

func replicas(n int) int { return max(n, 1) }

func sameResources(a, b *o2.ComponentResources) bool {
	if b == nil {
		return true // the flavour's, whatever the IMS filled in
	}
	if a == nil {
		return b.CPU == "" && b.Memory == ""
	}
	return (b.CPU == "" || a.CPU == b.CPU) && (b.Memory == "" || a.Memory == b.Memory)
}

func placementDrift(got, want *o2.PlacementRules) string {
	var g, w o2.PlacementRules
	if got != nil {
		g = *got
	}
	if want != nil {
		w = *want
	}
	switch {
	case strings.Join(g.Regions, ",") != strings.Join(w.Regions, ","):
		return fmt.Sprintf("the region changed from %q to %q", strings.Join(g.Regions, ","), strings.Join(w.Regions, ","))
	case strings.Join(g.Providers, ",") != strings.Join(w.Providers, ","):
		return fmt.Sprintf("the target cluster changed from %q to %q", strings.Join(g.Providers, ","), strings.Join(w.Providers, ","))
	case max(g.Spread, 1) != max(w.Spread, 1):
		return "the spread over pools changed"
	}
	return ""
}

func componentNames(cs []o2.DeploymentComponent) string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// results summarises the analysis for the intent's status.
func results(reqs intent.Requirements, spec *o2.DeploymentSpec, source string) *nephv1.ProcessingResults {
	r := &nephv1.ProcessingResults{Region: reqs.Region, HighAvailability: reqs.HighAvailability, Source: source, Reasons: reqs.Reasons}
	for _, c := range spec.Components {
		r.NetworkFunctions = append(r.NetworkFunctions, fmt.Sprintf("%s×%d", c.Name, replicas(c.Replicas)))
	}
	return r
}
