# The README's two commands are `go run ./cmd/o2ims serve` and `make test`.
SHELL := /bin/bash
GO ?= go
# Tests run against both SQLite and PostgreSQL. The PostgreSQL tests fail,
# not skip, when this database cannot be reached.
export O2IMS_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# Binaries of the local Kubernetes control plane that internal/testenv starts,
# built once by the testenv target into the user's cache, so that fresh
# clones (and CI runs) on the same machine reuse them.
export O2IMS_TESTENV_BIN ?= $(HOME)/.cache/nephoran-o2ims/testenv/bin
# make test builds them first (testenv), so a test needing them fails
# rather than skips when they are missing.
export O2IMS_TESTENV_REQUIRED ?= 1

.PHONY: test build release image generate check-generate vet fmt bench fuzz fuzz-api testenv

test: vet testenv
	$(GO) test -count=1 -timeout 40m ./...
	# The AWS provider against kumo, an independent AWS emulator, kept in a
	# module of its own so that its dependencies stay out of the server's.
	cd internal/provider/aws/kumotest && GOFLAGS=-mod=mod $(GO) test -count=1 ./...

build:
	$(GO) build -o bin/ ./cmd/...

# Release binaries: static, without paths and symbol tables.
release:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/ ./cmd/o2ims ./cmd/o2ctl

# The container image of Containerfile (needs a container engine: docker or
# podman, set ENGINE).
ENGINE ?= docker
IMAGE ?= ghcr.io/nephoran/o2ims:dev
image:
	$(ENGINE) build -f Containerfile -t $(IMAGE) .

generate:
	$(GO) generate ./api/... ./pkg/apis/... ./internal/controller/...
	$(GO) run ./clients/python/tools/genmodels

# What `make generate` writes: the API handlers and models, the Python
# models, the deep-copy functions of pkg/apis, the CRDs and the
# controller's ClusterRole.
GENERATED := internal/httpapi/gen clients/python/nephoran_o2ims/models.py pkg/apis deploy/crds deploy/rbac

# Fails when the committed generated code differs from what the specs produce.
check-generate: generate
	@git diff --exit-code -- $(GENERATED) || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { echo "untracked generated files: run 'make generate' and commit"; exit 1; }

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/gen/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

fuzz: fuzz-api
	$(GO) test -run '^$$' -fuzz FuzzParseFilter -fuzztime 60s ./internal/query/
	$(GO) test -run '^$$' -fuzz FuzzParseSelection -fuzztime 60s ./internal/query/

# Random requests against every API of the in-process server: no 5xx, every
# 4xx a problem in the API's words, no panic. CI runs it for FUZZTIME.
FUZZTIME ?= 30s
fuzz-api:
	$(GO) test -run '^$$' -fuzz FuzzAPI -fuzztime $(FUZZTIME) -parallel 2 ./internal/httpapi/

# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok,
# then Porch (porch-server, its function runner and the apply-setters function)
# into $(O2IMS_TESTENV_BIN): minutes the first time, a fraction of a second when the
# version stamps match.
testenv:
	GO=$(GO) hack/testenv/build.sh
	GO=$(GO) hack/porch/build.sh
	GO=$(GO) hack/prometheus/build.sh
	GO=$(GO) hack/crds/build.sh
