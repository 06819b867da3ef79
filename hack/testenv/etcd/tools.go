//go:build tools

// Package etcd pins the etcd server that hack/testenv/build.sh compiles. It is
// a module of its own because k8s.io/kubernetes v1.37.2 requires
// go.etcd.io/etcd/server/v3 v3.7.0, and minimal version selection would
// otherwise replace the v3.6.6 server this test environment is verified with.
package etcd

import _ "go.etcd.io/etcd/server/v3"
