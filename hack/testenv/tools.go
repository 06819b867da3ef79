//go:build tools

// Package testenv pins the control-plane programs that hack/testenv/build.sh
// compiles, so that `go mod tidy` in this tool module keeps every module and
// go.sum line they need and the build works offline from the module cache.
package testenv

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
