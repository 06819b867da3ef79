#!/usr/bin/env bash
# Builds the programs of the local Kubernetes test control plane (etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok) from their Go
# modules and assembles kwok's stages file, all into one directory:
# $O2IMS_TESTENV_BIN, or <repo>/.cache/testenv/bin.
#
# No container engine and no release download is available on the machines this
# project runs on, so the control plane is compiled through the Go module proxy.
# A cold build takes minutes; a warm run only compares version stamps and exits,
# so `make test` can depend on it.
#
# Environment:
#   O2IMS_TESTENV_BIN  output directory (default <repo>/.cache/testenv/bin)
#   O2IMS_TESTENV_FORCE=1  rebuild even when the stamps match
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${O2IMS_TESTENV_BIN:-$repo/.cache/testenv/bin}"
go="${GO:-go}"

# Raise this when a change to this script must invalidate existing binaries.
recipe=1
kube_version=v1.37.2

mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"

# Two `make test` runs in parallel must not both write the same binaries.
exec 9>"$bin/.build.lock"
flock 9

# Builds run from the tool modules; a go.work higher up would pull the project's
# module in, and GOFLAGS from the caller (say -mod=vendor) would not apply here.
export GOWORK=off
export GOFLAGS="-buildvcs=false"

tool=testenv
source "$repo/hack/lib/stamped.sh"
k8s_stamp="$(stamp_of "$here")"
etcd_stamp="$(stamp_of "$here/etcd")"

# kube-apiserver reports gitVersion at /version; clients compare it, so it should
# name the real release rather than the v0.0.0-master placeholder.
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
	kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build etcd "$here/etcd" "$etcd_stamp" go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver "$here" "$k8s_stamp" k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
build kube-controller-manager "$here" "$k8s_stamp" k8s.io/kubernetes/cmd/kube-controller-manager "$kube_ldflags"
build kube-scheduler "$here" "$k8s_stamp" k8s.io/kubernetes/cmd/kube-scheduler "$kube_ldflags"
build kwok "$here" "$k8s_stamp" sigs.k8s.io/kwok/cmd/kwok "-s -w"

# kwok refuses to start without stages. These are the "fast" node and pod
# lifecycles shipped in its module: nodes turn Ready and keep a heartbeat, pods
# become Running, finished pods complete, and deleted pods go away.
stages="$bin/kwok-stages.yaml"
if [[ ! -f "$stages" || ! -f "$stages.stamp" || "$(cat "$stages.stamp")" != "$k8s_stamp" ]]; then
	kwok_dir="$(cd "$here" && "$go" list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
	{
		first=1
		for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
			pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
			[[ $first == 1 ]] || echo '---'
			first=0
			cat "$kwok_dir/kustomize/stage/$f"
		done
	} >"$stages.tmp"
	mv -f "$stages.tmp" "$stages"
	echo "$k8s_stamp" >"$stages.stamp"
fi
