#!/usr/bin/env bash
# Builds Prometheus 3.16.0 (Go module github.com/prometheus/prometheus
# v0.316.0) and its promtool, into the same directory as
# hack/testenv/build.sh: $O2IMS_TESTENV_BIN, or <repo>/.cache/testenv/bin.
# e2e/prometheus_test.go scrapes the IMS with it and checks the shipped
# alert rules (deploy/prometheus) and dashboard (deploy/grafana).
#
#   prometheus  github.com/prometheus/prometheus/cmd/prometheus
#   promtool    github.com/prometheus/prometheus/cmd/promtool
#
# Both come from this tool module (./go.mod), never linked into the
# project's module. Built as the release is (netgo, no cgo) except for two
# tags: without builtinassets the web UI is not compiled in (it would need
# generated assets the module does not ship; the HTTP API, all the tests
# use, is unaffected), and remove_all_sd leaves out every service discovery
# but static, file and HTTP: about 240 of 1,530 packages, the cloud
# providers' SDKs (AWS EC2, OpenStack, Scaleway, OCI, ...) and Docker's
# among them. A cold build takes about two and a half minutes on two cores;
# a warm run only compares version stamps and exits.
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
prom_module=github.com/prometheus/prometheus
prom_version=3.16.0

mkdir -p "$bin"
bin="$(cd "$bin" && pwd)"

# Own lock file: the other build scripts may hold theirs.
exec 7>"$bin/.prometheus-build.lock"
flock 7

export GOWORK=off

tool=prometheus
source "$repo/hack/lib/stamped.sh"
stamp="$(stamp_of "$here")"

# `prometheus --version` and the build_info metric name the release.
ldflags="-s -w"
ldflags+=" -X github.com/prometheus/common/version.Version=$prom_version"
ldflags+=" -X github.com/prometheus/common/version.Branch=HEAD"
ldflags+=" -X github.com/prometheus/common/version.BuildUser=o2ims-testenv"
ldflags+=" -X github.com/prometheus/common/version.BuildDate=19700101-00:00:00"

flags=(GOFLAGS="-buildvcs=false -tags=netgo,remove_all_sd" CGO_ENABLED=0)
build prometheus "$here" "$stamp" "$prom_module/cmd/prometheus" "$ldflags" "${flags[@]}"
# promtool reuses most packages compiled for prometheus.
build promtool "$here" "$stamp" "$prom_module/cmd/promtool" "$ldflags" "${flags[@]}"
