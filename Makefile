# Hestia — every target runs on Node >= 22.19; scripts/ensure-node.sh fetches Node 24 LTS
# from the npm registry into ~/.cache/hestia when the system node is older.
SHELL := /bin/bash
NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
KUBECTL ?= $(shell test/cluster/build.sh 2>/dev/null | tail -1)/kubectl
IMG ?= hestia:dev

.PHONY: all deps typecheck test test-unit test-integration test-disruptive test-cluster dev cluster-build bench \
        diagram crd-schema install uninstall deploy undeploy run docker-check

all: test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
deps: node_modules/.package-lock.json

typecheck: deps
	npx tsc --noEmit -p .

RESULTS := .cache/test-results

test-unit: deps
	@mkdir -p $(RESULTS)
	npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=$(RESULTS)/unit.json

# The integration suite runs against a fresh local control plane (built once, cached).
test-integration: deps
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=$(RESULTS)/integration.json

# Tests that break their control plane on purpose get one of their own.
test-disruptive: deps
	@mkdir -p $(RESULTS)
	test/cluster/with-cluster.sh npx vitest run --project disruptive --reporter=default --reporter=json --outputFile.json=$(RESULTS)/disruptive.json

# Self-tests of the control-plane harness itself (runs under its own fresh cluster).
test-cluster:
	@mkdir -p $(RESULTS)
	test/cluster/selftest.sh | tee $(RESULTS)/cluster.log

## Everything: type-checking, unit and model-based tests, harness self-tests, integration tests.
test: typecheck test-unit test-cluster test-integration test-disruptive
	@node scripts/test-summary.ts $(RESULTS)/unit.json $(RESULTS)/cluster.log $(RESULTS)/integration.json $(RESULTS)/disruptive.json

## Time from a Deployment being ready to its Job, with 5, 105 and 311 Runners (bench/time-to-job.ts).
bench: deps
	test/cluster/with-cluster.sh node bench/time-to-job.ts

cluster-build:
	test/cluster/build.sh

## Local control plane + operator + samples, showing runs as they happen (Ctrl-C stops everything).
dev: deps
	scripts/dev.sh

run: deps
	node src/main.ts

diagram: deps
	node src/cli.ts diagram

## Regenerate the CRD's spec.template schema from the PodTemplateSpec of the test cluster's Kubernetes version.
crd-schema: deps
	test/cluster/with-cluster.sh node scripts/pod-template-schema.ts

# Familiar entry points of the original operator (need KUBECONFIG pointing at a cluster).
install:
	$(KUBECTL) apply -f crds/
uninstall:
	$(KUBECTL) delete --ignore-not-found -f crds/
deploy:
	cd deploy/default && $(KUBECTL) kustomize . | sed 's|image: hestia:dev|image: $(IMG)|' | $(KUBECTL) apply -f -
undeploy:
	$(KUBECTL) delete --ignore-not-found -k deploy/default
