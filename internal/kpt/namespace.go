package kpt

import (
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Names the set-namespace function gives meaning to.
const (
	fnConfigAPIVersion   = "fn.kpt.dev/v1alpha1"
	setNamespaceKind     = "SetNamespace"
	kptfileConfigMapName = "kptfile.kpt.dev"
	dependsOnAnnotation  = "config.kubernetes.io/depends-on"
	upstreamIDAnnotation = "internal.kpt.dev/upstream-identifier"
	defaultNamespace     = "default"
)

// dependsOnPattern matches a depends-on reference to a namespaced object:
// <group>/namespaces/<namespace>/<kind>/<name>.
var dependsOnPattern = regexp.MustCompile(`\A([-.\w]*)/namespaces/([-.\w]*)/([-.\w]*)/([-.\w]*)\z`)

// setNamespace does what the catalog's set-namespace does, written with
// kyaml. Resources marked as local configuration are left alone. Every
// namespaced resource gets the new namespace (one without a namespace is
// taken to be in "default"); kinds Kubernetes does not know count as
// namespaced when they have a namespace. Namespace objects are renamed, and
// the namespaces of ClusterRoleBinding subjects, of a
// CustomResourceDefinition's conversion webhook service and of an
// APIService's service change with them, as do depends-on annotations that
// refer to resources of the package. With namespaceMatcher, only values
// equal to it (or whose upstream origin is it) change.
//
// Unlike the catalog function, which writes "default" into those service
// fields when they are absent, absent fields stay absent here.
func setNamespace(cfg *kyaml.RNode, nodes []*kyaml.RNode) ([]*kyaml.RNode, error) {
	ns, matcher, err := namespaceConfig(cfg)
	if err != nil {
		return nil, err
	}
	change := func(origin, current string) (string, bool) {
		if current == "" {
			current = defaultNamespace
		}
		if current == ns {
			return current, false
		}
		if matcher == "" || matcher == current || matcher == origin {
			return ns, true
		}
		return current, false
	}
	var objects []*kyaml.RNode
	for _, n := range nodes {
		if !isLocalConfig(n) {
			objects = append(objects, n)
		}
	}
	// The namespaced resources of the package before the change, for
	// depends-on annotations.
	before := map[string]bool{}
	for _, o := range objects {
		if namespaced(o) {
			group, _ := splitAPIVersion(o.GetApiVersion())
			before[fmt.Sprintf("%s/namespaces/%s/%s/%s", group, o.GetNamespace(), o.GetKind(), o.GetName())] = true
		}
	}
	for _, o := range objects {
		group, _ := splitAPIVersion(o.GetApiVersion())
		kind := o.GetKind()
		switch {
		case namespaced(o):
			origin, ok := originOf(o, 2)
			if !ok {
				continue
			}
			// As in kpt, a resource without a namespace gets "default"
			// even when the matcher leaves it alone.
			v, _ := change(origin, o.GetNamespace())
			if v == o.GetNamespace() {
				continue
			}
			if err := o.SetNamespace(v); err != nil {
				return nil, invalidCause(err, "%s: the namespace could not be set", describe(o))
			}
		case group == "" && kind == "Namespace":
			origin, _ := originOf(o, 3)
			if v, ok := change(origin, o.GetName()); ok {
				if err := o.SetName(v); err != nil {
					return nil, invalidCause(err, "%s: the namespace could not be renamed", describe(o))
				}
			}
		case group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition":
			if err := changeField(o, change, "spec", "conversion", "webhook", "clientConfig", "service", "namespace"); err != nil {
				return nil, err
			}
		case group == "apiregistration.k8s.io" && kind == "APIService":
			if err := changeField(o, change, "spec", "service", "namespace"); err != nil {
				return nil, err
			}
		}
		// Only cluster-scoped bindings: the catalog function looks for
		// subjects among cluster-scoped resources only, so a RoleBinding's
		// subjects keep their namespaces.
		if kind == "ClusterRoleBinding" && !namespaced(o) {
			subjects, err := o.Pipe(kyaml.Lookup("subjects"))
			if err != nil || subjects == nil {
				continue
			}
			items, err := subjects.Elements()
			if err != nil {
				continue
			}
			for _, s := range items {
				if err := changeField(s, change, "namespace"); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, o := range objects {
		ref := o.GetAnnotations(dependsOnAnnotation)[dependsOnAnnotation]
		parts := dependsOnPattern.FindStringSubmatch(ref)
		if parts == nil || !before[ref] || parts[2] == ns || (matcher != "" && matcher != parts[2]) {
			continue
		}
		updated := strings.Join([]string{parts[1], "namespaces", ns, parts[3], parts[4]}, "/")
		if err := o.PipeE(kyaml.SetAnnotation(dependsOnAnnotation, updated)); err != nil {
			return nil, invalidCause(err, "%s: the depends-on annotation could not be updated", describe(o))
		}
	}
	return nodes, nil
}

// namespaceConfig reads set-namespace's configuration: a ConfigMap with
// data.namespace (or data.name when it is named kptfile.kpt.dev) and
// optional data.namespaceMatcher, or a SetNamespace object.
func namespaceConfig(cfg *kyaml.RNode) (ns, matcher string, err error) {
	if cfg == nil {
		return "", "", invalid("set-namespace needs a configuration: a ConfigMap with data.namespace, or a %s object", setNamespaceKind)
	}
	switch {
	case cfg.GetApiVersion() == "v1" && cfg.GetKind() == "ConfigMap":
		data, err := configData(cfg)
		if err != nil {
			return "", "", err
		}
		ns, matcher = data["namespace"], data["namespaceMatcher"]
		if ns == "" && cfg.GetName() == kptfileConfigMapName {
			ns = data["name"]
		}
		if ns == "" {
			return "", "", invalid("the configuration's data.namespace is empty")
		}
	case cfg.GetApiVersion() == fnConfigAPIVersion && cfg.GetKind() == setNamespaceKind:
		ns = scalarField(cfg.YNode(), "namespace")
		matcher = scalarField(cfg.YNode(), "namespaceMatcher")
		if ns == "" {
			return "", "", invalid("the configuration's namespace is empty")
		}
	default:
		return "", "", invalid("the configuration is a %s of apiVersion %q; set-namespace needs a ConfigMap or a %s of apiVersion %s",
			cfg.GetKind(), cfg.GetApiVersion(), setNamespaceKind, fnConfigAPIVersion)
	}
	return ns, matcher, nil
}

// namespaced tells whether a resource lives in a namespace: by Kubernetes'
// own schema for the kinds it knows, by having a namespace for others.
func namespaced(rn *kyaml.RNode) bool {
	if ns, known := openapi.IsNamespaceScoped(kyaml.TypeMeta{APIVersion: rn.GetApiVersion(), Kind: rn.GetKind()}); known {
		return ns
	}
	return rn.GetNamespace() != ""
}

// originOf returns a part of the resource's upstream identity
// (group|kind|namespace|name), from kpt's upstream-identifier annotation
// when present and well-formed, else from the resource as it is. part 2 is
// the namespace, 3 the name. ok is false for a malformed annotation, as kpt
// then leaves the resource alone.
func originOf(rn *kyaml.RNode, part int) (string, bool) {
	id, found := rn.GetAnnotations(upstreamIDAnnotation)[upstreamIDAnnotation]
	if !found {
		if part == 2 {
			return rn.GetNamespace(), true
		}
		return rn.GetName(), true
	}
	parts := strings.Split(id, "|")
	if len(parts) != 4 {
		return "", false
	}
	return parts[part], true
}

// changeField applies change to an existing string field; absent fields
// stay absent.
func changeField(rn *kyaml.RNode, change func(origin, current string) (string, bool), fields ...string) error {
	f, err := rn.Pipe(kyaml.Lookup(fields...))
	if err != nil || f == nil || f.YNode().Kind != kyaml.ScalarNode {
		return nil
	}
	if v, ok := change("", f.YNode().Value); ok {
		f.YNode().Value = v
	}
	return nil
}

// splitAPIVersion splits an apiVersion into group and version.
func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}
