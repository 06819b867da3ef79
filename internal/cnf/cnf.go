// Package cnf deploys containerised network functions (CNFs) onto Kubernetes
// clusters: it validates uploaded packages (Helm charts and kpt/KRM
// packages), renders them into Kubernetes objects with the parameters of one
// CNF instance, and applies, watches, measures and deletes those objects.
//
// Rendering never talks to a cluster: Helm charts go through Helm's chart
// loader and template engine only (no releases, no release secrets), and kpt
// packages through package kpt, which runs their Kptfile pipelines
// in-process. Everything about a cluster lives in Cluster, which uses a dynamic
// client with a discovery-based RESTMapper so that any kind, including custom
// resources, can be applied.
//
// Uploaded content is untrusted. Archives are unpacked in memory with bounded
// sizes and file counts, and entries with absolute or parent-relative paths,
// symbolic links or other special files are rejected.
package cnf

import (
	"github.com/nephoran/o2ims/internal/ims"
)

// Kind is the format of a CNF package.
type Kind string

// Package formats.
const (
	// KindHelm is a Helm chart archive (.tgz).
	KindHelm Kind = "helm"
	// KindKpt is a kpt/KRM package: a .tgz or .zip of YAML manifests with a
	// Kptfile, or a single multi-document YAML that includes the Kptfile.
	KindKpt Kind = "kpt"
)

// Labels and field names shared with the rest of the server and with the
// clusters' node configuration.
const (
	// LabelInstance is put on every rendered object and pod template, with
	// the CNF instance id as value, so that everything an instance created
	// can be found and deleted, including objects created by controllers
	// from pod templates.
	LabelInstance = "nephoran.io/cnf-instance"
	// LabelPool is the node label that selects a resource pool's nodes.
	LabelPool = "nephoran.io/resource-pool"
	// FieldManager is the server-side apply field manager of this server.
	FieldManager = "nephoran-o2ims"
)

// Limits on uploaded content. They bound the memory and CPU an upload can
// cost; real CNF packages are far smaller.
const (
	// MaxContentSize bounds the uploaded package and, separately, the sum
	// of the sizes of its unpacked files.
	MaxContentSize = 20 << 20
	// MaxFiles bounds the number of regular files in a package.
	MaxFiles = 1000
	// maxEntries bounds all archive entries, directories included, so that
	// an archive of empty entries cannot loop for long.
	maxEntries = 4 * MaxFiles
	// maxNesting bounds how deep Helm subchart archives may nest.
	maxNesting = 5
	// maxRenderedSize bounds the manifest text one render may produce.
	maxRenderedSize = 2 * MaxContentSize
	// maxObjects bounds the number of objects one render may produce.
	maxObjects = 2000
)

// Info describes a validated package.
type Info struct {
	Kind Kind
	// Name and Version come from Chart.yaml for Helm charts, and from the
	// Kptfile's metadata.name and its app.kubernetes.io/version annotation
	// or label (empty when absent) for kpt packages.
	Name, Version string
	// Workloads are the Deployments and StatefulSets of a render with the
	// defaults and namespace "default": for a Helm chart its default values
	// and release name InspectRelease, for a kpt package the Kptfile's
	// setter values with no release name (so its own "name" setter value).
	// Names that a chart derives from the release name differ at
	// instantiation; RenderParams.Replicas takes the rendered names, which
	// Cluster.Status also reports.
	Workloads []Workload
	// Files is the number of regular files in the package.
	Files int
}

// Workload names one workload object.
type Workload struct {
	Kind, Name string
}

// RenderParams drive one render.
type RenderParams struct {
	// InstanceID is the CNF instance id, set as label LabelInstance on
	// every object and pod template. It must be a valid label value.
	InstanceID string
	// ReleaseName is the Helm release name, or the value of the kpt "name"
	// setter (overridden by a "name" entry in Values).
	ReleaseName string
	// Namespace is set on every namespaced object, replacing any namespace
	// the package chose, so that an instance stays within its namespace.
	Namespace string
	// Pool, when set, adds the node selector LabelPool=<Pool> to the pod
	// templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs
	// and CronJobs, and to bare Pods.
	Pool string
	// Replicas maps a rendered Deployment or StatefulSet name to its
	// replica count, replacing the rendered value, so that scale levels
	// survive a re-render. A name that matches no such workload is an
	// error, as it is most likely a mistake.
	Replicas map[string]int
	// Resources, when set, replaces the cpu and memory requests of every
	// container of every workload.
	Resources *Resources
	// Values are Helm values merged over the chart's defaults, or kpt setter
	// values (converted to their string forms) written into the root
	// Kptfile's apply-setters configuration before its pipeline runs (see
	// kpt.Package.SetSetters).
	Values map[string]any
}

// Resources are the cpu and memory requests of a flavour, as Kubernetes
// quantities ("500m", "256Mi"). An empty field leaves that request alone.
type Resources struct {
	CPU, Memory string
}

// invalid returns an EINVALID error with a formatted message.
func invalid(format string, args ...any) error {
	return ims.Errorf(ims.EINVALID, format, args...)
}
