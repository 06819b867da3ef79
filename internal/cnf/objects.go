package cnf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// clusterScoped lists the built-in kinds that have no namespace, by
// "group/Kind". Render has no cluster to ask; Cluster.Apply corrects the
// namespace of any other kind using the cluster's RESTMapper.
var clusterScoped = map[string]bool{
	"/Namespace": true, "/Node": true, "/PersistentVolume": true, "/ComponentStatus": true,
	"storage.k8s.io/StorageClass": true, "storage.k8s.io/CSIDriver": true, "storage.k8s.io/CSINode": true,
	"storage.k8s.io/VolumeAttachment":                               true,
	"apiextensions.k8s.io/CustomResourceDefinition":                 true,
	"apiregistration.k8s.io/APIService":                             true,
	"rbac.authorization.k8s.io/ClusterRole":                         true,
	"rbac.authorization.k8s.io/ClusterRoleBinding":                  true,
	"scheduling.k8s.io/PriorityClass":                               true,
	"node.k8s.io/RuntimeClass":                                      true,
	"networking.k8s.io/IngressClass":                                true,
	"admissionregistration.k8s.io/MutatingWebhookConfiguration":     true,
	"admissionregistration.k8s.io/ValidatingWebhookConfiguration":   true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicy":        true,
	"admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": true,
	"certificates.k8s.io/CertificateSigningRequest":                 true,
	"flowcontrol.apiserver.k8s.io/FlowSchema":                       true,
	"flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration":       true,
}

// groupOf returns the API group of an apiVersion ("apps/v1" → "apps", "v1" → "").
func groupOf(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// parseManifests decodes a multi-document YAML (or JSON) stream into
// objects. Empty documents are skipped and List kinds are expanded. source
// names the file in error messages.
func parseManifests(source string, data []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalid("%s: reading YAML document %d: %v", source, doc, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, invalid("%s: document %d is not valid YAML: %v", source, doc, err)
		}
		var v any
		if err := utiljson.Unmarshal(js, &v); err != nil {
			return nil, invalid("%s: document %d: %v", source, doc, err)
		}
		if v == nil {
			continue // a document holding only comments
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("%s: document %d is not a YAML mapping", source, doc)
		}
		found, err := toObjects(source, doc, m)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
		if len(objs) > maxObjects {
			return nil, invalid("%s: more than %d objects", source, maxObjects)
		}
	}
	return objs, nil
}

// toObjects validates one decoded document as an object, expanding a List.
func toObjects(source string, doc int, m map[string]any) ([]*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{Object: m}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, invalid("%s: document %d has no apiVersion or kind", source, doc)
	}
	if items, ok := m["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		var out []*unstructured.Unstructured
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				return nil, invalid("%s: document %d: item %d is not an object", source, doc, i)
			}
			sub, err := toObjects(source, doc, im)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	}
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		return nil, invalid("%s: document %d (%s) has no metadata", source, doc, kind)
	}
	name, _ := md["name"].(string)
	if name == "" {
		return nil, invalid("%s: document %d (%s) has no metadata.name", source, doc, kind)
	}
	if lv, ok := md["labels"]; ok && lv != nil {
		if _, ok := lv.(map[string]any); !ok {
			return nil, invalid("%s: %s %s: metadata.labels is not a mapping", source, kind, name)
		}
	}
	return []*unstructured.Unstructured{obj}, nil
}

// objectKey identifies an object within one render.
func objectKey(o *unstructured.Unstructured) string {
	return groupOf(o.GetAPIVersion()) + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// validateParams checks the parameters every render needs, so that bad
// input is reported as such rather than as an API server rejection later.
func validateParams(p RenderParams) error {
	if p.InstanceID == "" {
		return invalid("an instance id is required")
	}
	if errs := validation.IsValidLabelValue(p.InstanceID); len(errs) > 0 {
		return invalid("instance id %q is not a valid label value: %s", p.InstanceID, strings.Join(errs, "; "))
	}
	if p.Namespace == "" {
		return invalid("a namespace is required")
	}
	if errs := validation.IsDNS1123Label(p.Namespace); len(errs) > 0 {
		return invalid("namespace %q is invalid: %s", p.Namespace, strings.Join(errs, "; "))
	}
	if p.ReleaseName != "" {
		if errs := validation.IsDNS1123Label(p.ReleaseName); len(errs) > 0 {
			return invalid("release name %q is invalid: %s", p.ReleaseName, strings.Join(errs, "; "))
		}
	}
	if p.Pool != "" {
		if errs := validation.IsValidLabelValue(p.Pool); len(errs) > 0 {
			return invalid("pool %q is not a valid label value: %s", p.Pool, strings.Join(errs, "; "))
		}
	}
	for name, n := range p.Replicas {
		if n < 0 || n > 1<<20 {
			return invalid("replicas of %q must be between 0 and %d, not %d", name, 1<<20, n)
		}
	}
	if r := p.Resources; r != nil {
		for what, q := range map[string]string{"cpu": r.CPU, "memory": r.Memory} {
			if q == "" {
				continue
			}
			if _, err := resource.ParseQuantity(q); err != nil {
				return invalid("%s request %q is not a valid quantity", what, q)
			}
		}
	}
	return nil
}

// decorate applies the instance-wide changes of p to rendered objects:
// namespace, instance label, node pool selector, replica overrides and
// resource requests. It also rejects duplicate objects, which the API would
// silently merge into one.
func decorate(objs []*unstructured.Unstructured, p RenderParams) error {
	seen := map[string]bool{}
	matched := map[string]bool{}
	for _, o := range objs {
		group, kind := groupOf(o.GetAPIVersion()), o.GetKind()
		if !clusterScoped[group+"/"+kind] {
			o.SetNamespace(p.Namespace)
		} else {
			o.SetNamespace("")
		}
		key := objectKey(o)
		if seen[key] {
			return invalid("the package renders %s %q more than once", kind, o.GetName())
		}
		seen[key] = true
		where := fmt.Sprintf("%s %s", kind, o.GetName())
		if err := addLabel(o.Object, where, p.InstanceID, "metadata"); err != nil {
			return err
		}
		for _, tpl := range podTemplates(group, kind) {
			if err := decoratePodTemplate(o.Object, where, tpl, p); err != nil {
				return err
			}
		}
		if group == "batch" && kind == "CronJob" {
			if err := addLabel(o.Object, where, p.InstanceID, "spec", "jobTemplate", "metadata"); err != nil {
				return err
			}
		}
		if group == "apps" && kind == "StatefulSet" {
			// Claims made from these templates outlive the StatefulSet;
			// the label lets Delete find and remove them.
			if err := labelClaimTemplates(o.Object, where, p.InstanceID); err != nil {
				return err
			}
		}
		if group == "apps" && (kind == "Deployment" || kind == "StatefulSet") {
			if n, ok := p.Replicas[o.GetName()]; ok {
				matched[o.GetName()] = true
				if err := unstructured.SetNestedField(o.Object, int64(n), "spec", "replicas"); err != nil {
					return invalid("%s: spec is not a mapping", where)
				}
			}
		}
	}
	var unknown []string
	for name := range p.Replicas {
		if !matched[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return invalid("replicas given for %s, which the package does not render as a Deployment or StatefulSet (it renders %s)",
			strings.Join(unknown, ", "), strings.Join(workloadNames(objs), ", "))
	}
	return nil
}

// podTemplates returns the paths of the pod templates of a workload kind; an
// empty path means the object is itself a pod.
func podTemplates(group, kind string) [][]string {
	switch {
	case group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet"):
		return [][]string{{"spec", "template"}}
	case group == "batch" && kind == "Job":
		return [][]string{{"spec", "template"}}
	case group == "batch" && kind == "CronJob":
		return [][]string{{"spec", "jobTemplate", "spec", "template"}}
	case group == "" && kind == "Pod":
		return [][]string{{}}
	case group == "" && kind == "ReplicationController":
		return [][]string{{"spec", "template"}}
	}
	return nil
}

func decoratePodTemplate(obj map[string]any, where string, path []string, p RenderParams) error {
	tpl, err := mapAt(obj, where, path...)
	if err != nil {
		return err
	}
	if err := addLabel(tpl, where, p.InstanceID, "metadata"); err != nil {
		return err
	}
	if p.Pool != "" {
		sel, err := mapAt(tpl, where, "spec", "nodeSelector")
		if err != nil {
			return err
		}
		sel[LabelPool] = p.Pool
	}
	if p.Resources != nil {
		spec, err := mapAt(tpl, where, "spec")
		if err != nil {
			return err
		}
		containers, ok := spec["containers"].([]any)
		if !ok && spec["containers"] != nil {
			return invalid("%s: containers is not a list", where)
		}
		for _, c := range containers {
			cm, ok := c.(map[string]any)
			if !ok {
				return invalid("%s: a container is not a mapping", where)
			}
			if err := setRequests(cm, where, p.Resources); err != nil {
				return err
			}
		}
	}
	return nil
}

// setRequests sets a container's cpu and memory requests. A limit below the
// new request is raised to it, because the API server rejects requests above
// limits and the flavour's sizing is what the operator asked for.
func setRequests(c map[string]any, where string, r *Resources) error {
	for name, q := range map[string]string{"cpu": r.CPU, "memory": r.Memory} {
		if q == "" {
			continue
		}
		req, err := mapAt(c, where, "resources", "requests")
		if err != nil {
			return err
		}
		req[name] = q
		res, _ := mapAt(c, where, "resources")
		limits, ok := res["limits"].(map[string]any)
		if !ok {
			continue
		}
		lv, ok := limits[name]
		if !ok {
			continue
		}
		limit, err := resource.ParseQuantity(fmt.Sprint(lv))
		if err != nil {
			continue // the API server reports the bad limit with its own words
		}
		want := resource.MustParse(q) // validated in validateParams
		if limit.Cmp(want) < 0 {
			limits[name] = q
		}
	}
	return nil
}

// addLabel sets the instance label in the labels mapping below path.
func addLabel(obj map[string]any, where, id string, path ...string) error {
	labels, err := mapAt(obj, where, append(path, "labels")...)
	if err != nil {
		return err
	}
	labels[LabelInstance] = id
	return nil
}

func labelClaimTemplates(obj map[string]any, where, id string) error {
	spec, ok := obj["spec"].(map[string]any)
	if !ok {
		return nil
	}
	claims, ok := spec["volumeClaimTemplates"].([]any)
	if !ok {
		return nil
	}
	for _, c := range claims {
		cm, ok := c.(map[string]any)
		if !ok {
			return invalid("%s: a volume claim template is not a mapping", where)
		}
		if err := addLabel(cm, where, id, "metadata"); err != nil {
			return err
		}
	}
	return nil
}

// mapAt returns the mapping at path in obj, creating missing (or null)
// levels. A level of another type is an EINVALID error rather than a panic,
// since the objects come from untrusted packages.
func mapAt(obj map[string]any, where string, path ...string) (map[string]any, error) {
	cur := obj
	for i, f := range path {
		v, ok := cur[f]
		if !ok || v == nil {
			next := map[string]any{}
			cur[f] = next
			cur = next
			continue
		}
		next, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("%s: %s is not a mapping", where, strings.Join(path[:i+1], "."))
		}
		cur = next
	}
	return cur, nil
}

// workloads returns the Deployments and StatefulSets among objs.
func workloads(objs []*unstructured.Unstructured) []Workload {
	var out []Workload
	for _, o := range objs {
		if isWorkload(o.GetAPIVersion(), o.GetKind()) {
			out = append(out, Workload{Kind: o.GetKind(), Name: o.GetName()})
		}
	}
	return out
}

func isWorkload(apiVersion, kind string) bool {
	return groupOf(apiVersion) == "apps" && (kind == "Deployment" || kind == "StatefulSet")
}

func workloadNames(objs []*unstructured.Unstructured) []string {
	names := []string{}
	for _, w := range workloads(objs) {
		names = append(names, w.Kind+" "+w.Name)
	}
	if len(names) == 0 {
		names = append(names, "none")
	}
	return names
}

// deepCopyValues copies nested maps and lists of a values tree, so that
// renders never modify the caller's map; scalars are shared.
func deepCopyValues(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopyValues(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopyValues(x)
		}
		return s
	default:
		return v
	}
}
