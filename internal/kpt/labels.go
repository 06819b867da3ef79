package kpt

import (
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/filters/labels"
	"sigs.k8s.io/kustomize/api/types"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

const setLabelsKind = "SetLabels"

// commonLabelFieldSpecs are the fields kustomize's commonLabels sets, as
// kustomize/api v0.21.1 defines them (internal/konfig/builtinpluginconsts:
// metadatalabels.go and commonlabels.go). kustomize keeps them in an
// internal package, so they are repeated here: every resource's
// metadata.labels, the pod and job templates of workloads, the selectors
// of Services and workloads (created when absent) and the label selectors
// of pod affinity, topology spread, PodDisruptionBudgets and
// NetworkPolicies (only when present).
const commonLabelFieldSpecs = `
- {path: metadata/labels, create: true}
- {path: spec/template/metadata/labels, create: true, version: v1, kind: ReplicationController}
- {path: spec/template/metadata/labels, create: true, kind: Deployment}
- {path: spec/template/metadata/labels, create: true, kind: ReplicaSet}
- {path: spec/template/metadata/labels, create: true, kind: DaemonSet}
- {path: spec/template/metadata/labels, create: true, group: apps, kind: StatefulSet}
- {path: "spec/volumeClaimTemplates[]/metadata/labels", create: true, group: apps, kind: StatefulSet}
- {path: spec/template/metadata/labels, create: true, group: batch, kind: Job}
- {path: spec/jobTemplate/metadata/labels, create: true, group: batch, kind: CronJob}
- {path: spec/jobTemplate/spec/template/metadata/labels, create: true, group: batch, kind: CronJob}
- {path: spec/selector, create: true, version: v1, kind: Service}
- {path: spec/selector, create: true, version: v1, kind: ReplicationController}
- {path: spec/selector/matchLabels, create: true, kind: Deployment}
- {path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels, group: apps, kind: Deployment}
- {path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels, group: apps, kind: Deployment}
- {path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels, group: apps, kind: Deployment}
- {path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels, group: apps, kind: Deployment}
- {path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels, group: apps, kind: Deployment}
- {path: spec/selector/matchLabels, create: true, kind: ReplicaSet}
- {path: spec/selector/matchLabels, create: true, kind: DaemonSet}
- {path: spec/selector/matchLabels, create: true, group: apps, kind: StatefulSet}
- {path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels, group: apps, kind: StatefulSet}
- {path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels, group: apps, kind: StatefulSet}
- {path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels, group: apps, kind: StatefulSet}
- {path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels, group: apps, kind: StatefulSet}
- {path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels, group: apps, kind: StatefulSet}
- {path: spec/selector/matchLabels, group: batch, kind: Job}
- {path: spec/jobTemplate/spec/selector/matchLabels, group: batch, kind: CronJob}
- {path: spec/selector/matchLabels, group: policy, kind: PodDisruptionBudget}
- {path: spec/podSelector/matchLabels, group: networking.k8s.io, kind: NetworkPolicy}
- {path: spec/ingress/from/podSelector/matchLabels, group: networking.k8s.io, kind: NetworkPolicy}
- {path: spec/egress/to/podSelector/matchLabels, group: networking.k8s.io, kind: NetworkPolicy}
`

var labelFieldSpecs = sync.OnceValues(func() (types.FsSlice, error) {
	var fs types.FsSlice
	err := yaml.Unmarshal([]byte(commonLabelFieldSpecs), &fs)
	return fs, err
})

// setLabels sets labels with kustomize's label filter and commonLabels
// field specifications, shaped to what the catalog's set-labels does:
// resources marked as local configuration are left alone (Kptfiles without
// that mark get labels, as kpt's own examples show), and pod and job
// templates get labels only where the resource has a template, where
// kustomize would create one. The configuration is a ConfigMap whose data
// are the labels, or a SetLabels object with a labels map.
func setLabels(cfg *kyaml.RNode, nodes []*kyaml.RNode) ([]*kyaml.RNode, error) {
	if cfg == nil {
		return nil, invalid("set-labels needs a configuration: a ConfigMap whose data are the labels, or a %s object", setLabelsKind)
	}
	var set map[string]string
	var err error
	switch {
	case cfg.GetApiVersion() == "v1" && cfg.GetKind() == "ConfigMap":
		set, err = configData(cfg)
	case cfg.GetApiVersion() == fnConfigAPIVersion && cfg.GetKind() == setLabelsKind:
		l := field(cfg.YNode(), "labels")
		if l == nil {
			return nodes, nil
		}
		set, err = stringMap(l, "the configuration's labels")
	default:
		return nil, invalid("the configuration is a %s of apiVersion %q; set-labels needs a ConfigMap or a %s of apiVersion %s",
			cfg.GetKind(), cfg.GetApiVersion(), setLabelsKind, fnConfigAPIVersion)
	}
	if err != nil || len(set) == 0 {
		return nodes, err
	}
	if len(set)*len(nodes)*8 > maxWork {
		return nil, invalid("%d labels on %d resources are more than this server renders", len(set), len(nodes))
	}
	fs, err := labelFieldSpecs()
	if err != nil {
		return nil, invalidCause(err, "the label fields could not be read")
	}
	for _, n := range nodes {
		if isLocalConfig(n) {
			continue
		}
		if _, err := (labels.Filter{Labels: set, FsSlice: fieldSpecsFor(n, fs)}).Filter([]*kyaml.RNode{n}); err != nil {
			return nil, invalidCause(err, "%s: the labels could not be set", describe(n))
		}
	}
	return nodes, nil
}

// fieldSpecsFor leaves out the template fields of a resource that has no
// such template, so that labels never create one.
func fieldSpecsFor(n *kyaml.RNode, fs types.FsSlice) types.FsSlice {
	var out types.FsSlice
	for _, s := range fs {
		parts := strings.Split(s.Path, "/")
		last := -1
		for i, p := range parts {
			if p == "template" || p == "jobTemplate" {
				last = i
			}
		}
		if last >= 0 && s.CreateIfNotPresent {
			if t, err := n.Pipe(kyaml.Lookup(parts[:last+1]...)); err != nil || t == nil {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}
