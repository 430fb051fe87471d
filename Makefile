# pillars: one binary, three services, every signal linked.
# `make up` runs everything locally without Docker, `make test` proves it.

GO      ?= go
BIN     ?= bin/pillars
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Backends for the local stack are built once into this folder (git-ignored).
export PILLARS_TOOLS ?= $(CURDIR)/.tools

.PHONY: build run up up-otlp down tools test-deps test unit browser screenshot e2e deploy-check chart-check chart-files compose-up compose-down bench bench-inprocess bench-check dashboards slo fmt vet

build:
	$(GO) build -ldflags "-X main.buildVersion=$(VERSION)" -o $(BIN) ./cmd/pillars

run: build
	$(BIN) all

up: build tools
	scripts/up.sh

# The same stack with an OpenTelemetry Collector between the services and the backends.
up-otlp: build tools
	PILLARS_OTLP=1 scripts/up.sh

down:
	scripts/down.sh

tools:
	scripts/tools.sh

# The whole proof: unit and in-process contract tests with the race detector (on SQLite and
# on a real PostgreSQL the tests start themselves; test-deps installs Debian's server once),
# the pages in a real headless Chromium, the deploy/ and chart checks, the benchmark harness's
# own tests, then the end-to-end suite against real backends.
test: test-deps vet unit browser deploy-check chart-check bench-check e2e

vet:
	$(GO) vet ./...

# PostgreSQL's server and Chromium, from Debian's packages, when missing (scripts/test-deps.sh).
test-deps:
	scripts/test-deps.sh

unit: test-deps
	$(GO) test -race -count=1 ./...

# The console and the pages of `pillars all`, driven in a real headless Chromium (Debian's
# chromium, or $PILLARS_CHROMIUM): no console error, a click starts a scenario, the trace links.
browser: test-deps
	$(GO) vet -tags browser ./cmd/pillars/
	$(GO) test -race -tags browser -count=1 -run '^TestBrowser' ./cmd/pillars/

# The README's picture of the console, taken by the browser test with a scenario running.
screenshot:
	$(GO) test -tags browser -count=1 -run '^TestBrowserConsole$$' ./cmd/pillars/ -args -update-screenshot

e2e: build tools
	$(GO) test -race -tags e2e -count=1 -parallel 8 -timeout 30m ./e2e/...

# Compose file, Prometheus rules and rule tests, dashboards and data sources, checked
# without Docker (promtool comes from `make tools`).
deploy-check: tools
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

# The Helm chart without a cluster: helm lint --strict and helm template for every documented
# values combination, every object decoded strictly into the Kubernetes API types, a policy
# check, and a server-side dry run against a real kube-apiserver and etcd. The pinned helm and
# kube-apiserver are built once into $(PILLARS_TOOLS)/bin (scripts/helm.sh, kube-apiserver.sh).
chart-check:
	scripts/helm.sh
	scripts/kube-apiserver.sh
	cd deploy && $(GO) vet -tags chart ./checks/ && $(GO) test -tags chart -count=1 -run '^TestChart' ./checks/

# The chart's dashboards and rules and the Grafana chart's data sources, from the Compose sources.
chart-files:
	cd deploy && $(GO) run ./cmd/chartfiles

# Needs a Docker engine: the whole stack in containers, Grafana on http://localhost:3000.
compose-up:
	docker compose up -d --build

compose-down:
	docker compose down

dashboards:
	cd deploy && $(GO) run ./cmd/dashboards

# The journeys' SLO rules, generated with sloth from deploy/slo/journeys.yaml: the real ones and
# the time-scaled copy for tests. The first run builds sloth (a few minutes).
slo:
	cd deploy && $(GO) run ./cmd/slo

# What a deployment costs, measured as deployed: each service in its own process, the load
# from another, telemetry shipped over loopback; every configuration interleaved over five
# rounds (about 20 minutes on 2 cores, keep the machine otherwise idle). Writes
# bench/RESULTS.md, bench/latency.png and bench/results.json, and the bars into README.md.
# BENCH_QUICK=1 is a smoke run of a few minutes, written to bench/smoke/; BENCH_FLAGS adds
# options (bin/benchrun run --help).
bench:
	cd bench/harness && $(GO) build -o $(CURDIR)/bin/benchrun ./cmd/benchrun
	bin/benchrun run --repo . $(if $(filter 1,$(BENCH_QUICK)),--quick,--readme README.md) $(BENCH_FLAGS)

# The older benchmark: the three services in one process, for profiling one heap
# (-cpuprofile); see bench/INPROCESS.md.
bench-inprocess:
	$(GO) test -run '^$$' -bench . -benchtime 3s -count 8 ./bench/ | tee bench/latest.txt

# The benchmark harness is a module of its own (bench/harness): its tests check that it counts
# what it says it counts, never how fast anything is.
bench-check:
	cd bench/harness && $(GO) vet ./... && $(GO) test -race -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
