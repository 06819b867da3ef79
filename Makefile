# The README's two commands are `go run ./cmd/o2ims serve` and `make test`.
SHELL := /bin/bash
GO ?= go
# Tests run against both SQLite and PostgreSQL. The PostgreSQL tests fail,
# not skip, when this database cannot be reached.
export O2IMS_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: test build generate check-generate vet fmt bench fuzz

test: vet
	$(GO) test -count=1 -timeout 20m ./...

build:
	$(GO) build -o bin/ ./cmd/...

generate:
	$(GO) generate ./api/...

# Fails when the committed generated code differs from what the specs produce.
check-generate: generate
	@git diff --exit-code -- internal/httpapi/gen || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- internal/httpapi/gen)" || { echo "untracked generated files: run 'make generate' and commit"; exit 1; }

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/gen/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseFilter -fuzztime 60s ./internal/query/
	$(GO) test -run '^$$' -fuzz FuzzParseSelection -fuzztime 60s ./internal/query/
