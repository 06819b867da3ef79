#!/usr/bin/env bash
# Builds Porch (Nephio R5: github.com/nephio-project/porch v1.4.0) for the
# local test control plane, into the same directory as hack/testenv/build.sh:
# $O2IMS_TESTENV_BIN, or <repo>/.cache/testenv/bin.
#
#   porch-server           github.com/nephio-project/porch/cmd/porch
#   porch-function-runner  github.com/nephio-project/porch/func/server, run
#                          with its executable evaluator (no pods, no images)
#   apply-setters          the KRM function behind gcr.io/kpt-fn/apply-setters:v0.2.0,
#                          built from the image's own source,
#                          github.com/GoogleContainerTools/kpt-functions-catalog/functions/go/apply-setters@v0.2.0
#   porch-crds/            the Repository and PackageRev CRDs of the same
#                          Porch version, copied from the module
#
# Porch v1.4.0 runs apply-replacements, set-namespace and starlark in-process;
# every other function of a Kptfile pipeline goes to the function runner, which
# executes a binary named in its configuration instead of pulling the image.
#
# Each program comes from its own tool module (./go.mod, ./apply-setters/go.mod)
# and is never linked into the project's module: Porch pins Kubernetes
# libraries v0.30.3, the project uses v0.37.2. A cold build takes minutes
# (porch-server alone about four on two cores); a warm run only compares
# version stamps and exits.
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
porch_module=github.com/nephio-project/porch

mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"

# Own lock file, not hack/testenv's: that script may hold its lock while it
# calls this one.
exec 8>"$bin/.porch-build.lock"
flock 8

export GOWORK=off
export GOFLAGS="-buildvcs=false"

tool=porch
source "$repo/hack/lib/stamped.sh"
porch_stamp="$(stamp_of "$here")"
setters_stamp="$(stamp_of "$here/apply-setters")"

# porch-server links wasmtime-go through cgo (its wasm function runtime, which
# the tests do not enable), so these two keep the toolchain's cgo default; the
# function runner then reuses the packages compiled for the server.
build porch-server "$here" "$porch_stamp" "$porch_module/cmd/porch" "-s -w"
build porch-function-runner "$here" "$porch_stamp" "$porch_module/func/server" "-s -w"
# Built like the image's Dockerfile does: a static binary without cgo.
build apply-setters "$here/apply-setters" "$setters_stamp" \
	github.com/GoogleContainerTools/kpt-functions-catalog/functions/go/apply-setters "-s -w" CGO_ENABLED=0

crds="$bin/porch-crds"
if ! fresh "$crds" "$porch_stamp"; then
	porch_dir="$(cd "$here" && "$go" list -m -f '{{.Dir}}' "$porch_module")"
	rm -rf "$crds.tmp"
	mkdir -p "$crds.tmp"
	# Repository, and PackageRev: the store of the default --cache-type CR.
	cp "$porch_dir/api/porchconfig/v1alpha1/config.porch.kpt.dev_repositories.yaml" \
		"$porch_dir/internal/api/porchinternal/v1alpha1/config.porch.kpt.dev_packagerevs.yaml" "$crds.tmp/"
	chmod -R u+w "$crds.tmp" # module cache files are read-only
	rm -rf "$crds"
	mv "$crds.tmp" "$crds"
	echo "$porch_stamp" >"$crds.stamp"
fi
