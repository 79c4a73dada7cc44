# Hestia — every target runs on Node >= 22.19; scripts/ensure-node.sh fetches Node 24 LTS
# from the npm registry into ~/.cache/hestia when the system node is older.
SHELL := /bin/bash
NODE_BIN := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
KUBECTL ?= $(shell test/cluster/build.sh 2>/dev/null | tail -1)/kubectl
IMG ?= hestia:dev

.PHONY: all deps typecheck test test-unit test-integration test-cluster dev cluster-build \
        diagram install uninstall deploy undeploy run docker-check

all: test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
deps: node_modules/.package-lock.json

typecheck: deps
	npx tsc --noEmit -p .

test-unit: deps
	npx vitest run --project unit

# The integration suite runs against a fresh local control plane (built once, cached).
test-integration: deps
	test/cluster/with-cluster.sh npx vitest run --project integration

# Self-tests of the control-plane harness itself.
test-cluster:
	test/cluster/with-cluster.sh test/cluster/selftest.sh

## Everything: type-checking, unit and model-based tests, harness self-tests, integration tests.
test: typecheck test-unit test-cluster test-integration

cluster-build:
	test/cluster/build.sh

## Local control plane + operator + samples, showing runs as they happen (Ctrl-C stops everything).
dev: deps
	scripts/dev.sh

run: deps
	node src/main.ts

diagram: deps
	node src/cli.ts diagram

# Familiar entry points of the original operator (need KUBECONFIG pointing at a cluster).
install:
	$(KUBECTL) apply -f crds/
uninstall:
	$(KUBECTL) delete --ignore-not-found -f crds/
deploy:
	cd deploy/default && $(KUBECTL) kustomize . | sed 's|image: hestia:dev|image: $(IMG)|' | $(KUBECTL) apply -f -
undeploy:
	$(KUBECTL) delete --ignore-not-found -k deploy/default
