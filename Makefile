# Hestia — every target runs on Node >= 22.19; scripts/ensure-node.sh fetches Node 24 LTS
# from the npm registry into ~/.cache/hestia when the system node is older.
SHELL := /bin/bash
NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
KUBECTL ?= $(shell test/cluster/build.sh 2>/dev/null | tail -1)/kubectl
IMG ?= hestia:dev
# Images of an OLM release (OPERATOR_IMG, BUNDLE_IMG, CATALOG_IMG): unset, they are the names the committed
# bundle/ and catalog/ carry (defaultReleaseNames in scripts/olm-bundle.ts).
olm-image = $(or $($(1)_IMG),$(shell $(NODE_BIN)/node scripts/olm.ts image $(2)))
HELM = $(shell test/tools/build.sh helm | tail -1)

.PHONY: all deps build prereqs tools browser typecheck test test-unit test-dev test-integration test-browser test-throttled test-disruptive test-chaos test-cluster chaos dev cluster-build bench-sharded \
        bench bench-full bench-limit bench-notify bench-compare diagram crd-schema install uninstall deploy undeploy run docker-build bundle bundle-build catalog \
        catalog-build helm-lint chart-crds

all: test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
deps: node_modules/.package-lock.json

## The operator as it ships (dist/): src/ and machines/ with their types stripped ahead of time (scripts/build-js.ts).
build: deps
	node --no-warnings=ExperimentalWarning scripts/build-js.ts

typecheck: deps
	npx tsc --noEmit -p .

RESULTS := .cache/test-results

test-unit: deps tools
	@mkdir -p $(RESULTS)
	npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=$(RESULTS)/unit.json

# The integration suite runs against a fresh local control plane (built once, cached).
test-integration: prereqs
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=$(RESULTS)/integration.json

# Pages the operator serves, driven in Chromium (test/browser), against a control plane of their own.
test-browser: prereqs
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project browser --reporter=default --reporter=json --outputFile.json=$(RESULTS)/browser.json

# Tests that break their control plane on purpose get one of their own.
test-disruptive: prereqs
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project disruptive --reporter=default --reporter=json --outputFile.json=$(RESULTS)/disruptive.json

# A backlog of writes under API Priority and Fairness: a cluster with request limits on.
test-throttled: prereqs
	@mkdir -p $(RESULTS)
	HESTIA_QPS_LIMITS_DISABLED=false test/cluster/with-cluster.sh npx vitest run --project throttled --reporter=default --reporter=json --outputFile.json=$(RESULTS)/throttled.json

# The README's `make dev`, run as a user runs it, checked and stopped with Ctrl-C (test/dev/make-dev.test.ts).
test-dev: prereqs
	@mkdir -p $(RESULTS)
	npx vitest run --project dev --reporter=default --reporter=json --outputFile.json=$(RESULTS)/dev.json

# The fault suite (test/chaos, RELIABILITY.md) at its reduced size, on a control plane of its own:
# it kills operators and restarts and compacts its control plane.
test-chaos: prereqs
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project chaos --reporter=default --reporter=json --outputFile.json=$(RESULTS)/chaos.json

## The fault suite at full size (100 SIGKILLs over about 1,000 runs, ...); figures in .cache/test-results/chaos-full/.
chaos: prereqs
	@mkdir -p $(RESULTS)
	HESTIA_CHAOS_SIZE=full test/cluster/with-cluster.sh npx vitest run --project chaos --reporter=default --reporter=json --outputFile.json=$(RESULTS)/chaos-full.json

# Self-tests of the control-plane harness itself (runs under its own fresh cluster).
test-cluster:
	@mkdir -p $(RESULTS)
	test/cluster/selftest.sh | tee $(RESULTS)/cluster.log

## Everything: type-checking, unit and model-based tests, harness self-tests, integration tests, browser tests, the reduced fault suite.
test: prereqs typecheck test-unit test-cluster test-dev test-integration test-browser test-throttled test-disruptive test-chaos
	@node scripts/test-summary.ts $(RESULTS)/unit.json $(RESULTS)/cluster.log $(RESULTS)/dev.json $(RESULTS)/integration.json $(RESULTS)/browser.json $(RESULTS)/throttled.json \
	  $(RESULTS)/disruptive.json $(RESULTS)/chaos.json

## Benchmarks (BENCHMARKS.md, bench/results.json): 10, 100 and 1,000 Runners and the cron storm, 3 runs, each on
## a fresh control plane; bench-full adds 5,000 Runners (3 runs) and 10,000 (bench-limit, one run). The floor
## (bench/floor.ts) runs beside the operator.
BENCH_RUNS ?= 3
bench: build
	@mkdir -p .cache/bench && rm -f .cache/bench/*.json
	for r in $$(seq $(BENCH_RUNS)); do test/cluster/with-cluster.sh node bench/run.ts --sizes 10,100,1000 --cron 1000 --out .cache/bench/small-$$r.json || exit 1; done
	node bench/report.ts

bench-full: build
	@mkdir -p .cache/bench && rm -f .cache/bench/*.json
	for r in $$(seq $(BENCH_RUNS)); do test/cluster/with-cluster.sh node bench/run.ts --sizes 5000 --cron 5000 --out .cache/bench/full-$$r.json || exit 1; done
	$(MAKE) bench-sharded SHARDED_RUNNERS=20000 SHARDED_REPLICAS=4
	$(MAKE) bench-limit

## One run at 10,000 Runners (memory at the shipped limit; the floor left out): about 17 min here.
## Rollout → Job latency with a Destination that hangs, one that answers 503 and one that accepts, beside none (README, "Figures").
bench-notify: build
	@mkdir -p .cache/bench-notify && rm -f .cache/bench-notify/run-*.json
	for r in $$(seq $(BENCH_RUNS)); do test/cluster/with-cluster.sh env HESTIA_LOG_LEVEL=error node bench/notify-latency.ts --runners 200 --rounds 5 --out .cache/bench-notify/run-$$r.json || exit 1; done
	node bench/notify-report.ts

bench-limit: build
	@mkdir -p .cache/bench
	test/cluster/with-cluster.sh node bench/run.ts --sizes 10000 --floor false --out .cache/bench/limit-1.json
	node bench/report.ts

## Replicas that share the Runners beside one replica, in one run (BENCHMARKS.md, "Several replicas"): memory of each,
## the time to take the slots up, trigger latency, the hand-over after a SIGKILL — on a control plane with Kubernetes'
## alpha sharded lists (ShardedListAndWatch, the test clusters' default), then on one as Kubernetes ships it.
## bench-full runs 20,000 over 4 (about 35 min a run here); the default, 2,000 over 4, about 4 min a run.
SHARDED_RUNNERS ?= 2000
SHARDED_REPLICAS ?= 4
bench-sharded: build
	@mkdir -p .cache/bench
	test/cluster/with-cluster.sh node bench/sharded.ts --runners $(SHARDED_RUNNERS) --replicas $(SHARDED_REPLICAS) --out .cache/bench/sharded-$(SHARDED_RUNNERS)x$(SHARDED_REPLICAS).json
	HESTIA_KUBE_FEATURE_GATES= test/cluster/with-cluster.sh node bench/sharded.ts --runners $(SHARDED_RUNNERS) --replicas $(SHARDED_REPLICAS) --out .cache/bench/sharded-$(SHARDED_RUNNERS)x$(SHARDED_REPLICAS)-plain.json
	node bench/report.ts

## The same runs at 1,000 Runners and the cron storm with other operators in this one's place, for the "Before and
## after" table of BENCHMARKS.md: the commit before the work on a lean run (BEFORE), and this operator with V8's heap
## defaults. (Rows measured earlier with other commits stay in the table with their date.)
BEFORE ?= c827fbc
COMPARE_RUNS ?= 3
bench-compare: build
	@mkdir -p .cache/bench && rm -f .cache/bench/*.json
	rm -rf .cache/bench/before && mkdir -p .cache/bench/before && git archive $(BEFORE) | tar -x -C .cache/bench/before
	cd .cache/bench/before && npm ci --no-audit --no-fund --loglevel=error
	for r in $$(seq $(COMPARE_RUNS)); do test/cluster/with-cluster.sh node bench/run.ts --sizes 1000 --cron 1000 --operator-dir .cache/bench/before --operator-commit $$(git rev-parse --short $(BEFORE)) --out .cache/bench/before-lean-$$r.json || exit 1; done
	for r in $$(seq $(COMPARE_RUNS)); do test/cluster/with-cluster.sh node bench/run.ts --sizes 1000 --floor false --operator-env HESTIA_V8_DEFAULTS=true --out .cache/bench/v8-heap-defaults-$$r.json || exit 1; done
	node bench/report.ts

cluster-build:
	test/cluster/build.sh

## Every Go tool the tests use as a real client, and the Go modules they read (test/tools/README.md).
tools:
	test/tools/build.sh --all

## The Chromium the browser tests drive: Debian's chromium, installed with apt-get when missing (scripts/ensure-chromium.sh).
browser:
	scripts/ensure-chromium.sh

## What the tests need, built before any test runs (a cold cache only takes longer): Node's packages,
## the control plane, the Go tools, Chromium. No test builds or downloads anything.
prereqs: deps build cluster-build tools browser

## Local control plane + operator + samples, showing runs as they happen (Ctrl-C stops everything).
dev: build
	scripts/dev.sh

run: build
	node dist/src/main.js

diagram: deps
	node src/cli.ts diagram

## Regenerate the CRD's spec.template schema from the PodTemplateSpec of the test cluster's Kubernetes version.
crd-schema: deps
	test/cluster/with-cluster.sh node scripts/pod-template-schema.ts

# Familiar entry points of the original operator and of kubebuilder projects (need KUBECONFIG pointing at a cluster).
## The Runner CRD.
install:
	$(KUBECTL) apply -k deploy/crd
uninstall:
	$(KUBECTL) delete --ignore-not-found -k deploy/crd
## Namespace hestia-system, RBAC and the operator Deployment running IMG (deploy/default).
deploy:
	$(KUBECTL) kustomize deploy/default | sed 's|image: hestia:dev|image: $(IMG)|' | $(KUBECTL) apply -f -
undeploy:
	$(KUBECTL) delete --ignore-not-found -k deploy/default

# Image builds need a Docker engine; without one they stop with a message instead of a docker error.
define docker-build
	@command -v docker >/dev/null 2>&1 || { echo "$@: no docker command here: cannot build $(2). The Dockerfiles are checked statically by 'make test-unit' (test/unit/dockerfile.test.ts, test/unit/olm-packaging.test.ts)." >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "$@: docker cannot reach a Docker engine (docker info failed): cannot build $(2)." >&2; exit 1; }
	docker build -f $(1) -t $(2) .
endef
## The operator image IMG from the Dockerfile.
docker-build:
	$(call docker-build,Dockerfile,$(IMG))

## OLM: bundle/ and bundle.Dockerfile from deploy/ (scripts/olm-bundle.ts); the catalog in catalog/ (scripts/olm-catalog.ts).
bundle: deps
	node scripts/olm.ts bundle --image $(call olm-image,OPERATOR,operator)
catalog: deps
	node scripts/olm.ts catalog --image $(call olm-image,OPERATOR,operator) --bundle-image $(call olm-image,BUNDLE,bundle)
bundle-build:
	$(call docker-build,bundle.Dockerfile,$(call olm-image,BUNDLE,bundle))
catalog-build:
	$(call docker-build,catalog.Dockerfile,$(call olm-image,CATALOG,catalog))

## Helm: lint the chart in charts/hestia with helm built from Go modules (test/tools/helm).
helm-lint:
	$(HELM) lint --strict charts/hestia
	$(HELM) lint --strict charts/hestia -f charts/hestia/ci/namespaced-values.yaml
## Copies the CRDs (Runner, Destination, Notification) into the chart (test/unit/helm-chart.test.ts fails when a copy differs).
chart-crds:
	cp crds/e2e.stakater.com_*.yaml charts/hestia/crds/
