#!/usr/bin/env bash
# Copies the published CustomResourceDefinitions the Helm chart's objects
# need (Istio's, the Prometheus operator's ServiceMonitor and PrometheusRule)
# from their Go modules, pinned in this directory's go.mod, into
# $O2IMS_TESTENV_BIN/crds, with a version stamp: a warm run compares the
# stamp and exits.
#
# Environment:
#   O2IMS_TESTENV_BIN  output directory (default <repo>/.cache/testenv/bin)
#   O2IMS_TESTENV_FORCE=1  copy again even when the stamp matches
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${O2IMS_TESTENV_BIN:-$repo/.cache/testenv/bin}"
go="${GO:-go}"

# Raise this when a change to this script must invalidate the copies.
recipe=1

mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"
exec 7>"$bin/.crds-build.lock"
flock 7

export GOWORK=off
export GOFLAGS="-mod=mod"

tool=crds
source "$repo/hack/lib/stamped.sh"
stamp="$(stamp_of "$here")"
out="$bin/crds"
fresh "$out" "$stamp" && exit 0

dir_of() { # module
	(cd "$here" && "$go" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
}
istio="$(dir_of istio.io/api)"
operator="$(dir_of github.com/prometheus-operator/prometheus-operator)"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp "$istio/kubernetes/customresourcedefinitions.gen.yaml" "$out.tmp/istio.yaml"
cp "$operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
	"$operator/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" "$out.tmp/"
chmod -R u+w "$out.tmp" # module cache files are read-only
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$stamp" >"$out.stamp"
echo "crds: copied Istio's and the Prometheus operator's CRDs" >&2
