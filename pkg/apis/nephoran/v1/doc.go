// Package v1 is the nephoran.com/v1 API group: the NetworkIntent, a
// request in words and structured fields for network functions to run,
// which `o2ims controller` turns into an O2 deployment.
//
// The CRD manifest in deploy/crds and the deep-copy functions are
// generated from these types by controller-gen (`make generate`).
//
// +kubebuilder:object:generate=true
// +groupName=nephoran.com
package v1

//go:generate go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object paths=. crd:crdVersions=v1 output:crd:dir=../../../../deploy/crds
