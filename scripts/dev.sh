#!/usr/bin/env bash
# `make dev`: a local control plane, the CRD, the operator, sample workloads and Runners,
# and a live view of Runners changing state. Ctrl-C stops everything it started.
# HESTIA_DEV_SECONDS=N stops it by itself after N seconds (used by its own test).
set -euo pipefail
cd "$(dirname "$0")/.."

name=${HESTIA_DEV_CLUSTER:-hestia-dev} # its own test names another, so it never replaces a developer's
eval "$(test/cluster/up.sh "$name")"
export KUBECONFIG HESTIA_KUBECTL
kubectl=$HESTIA_KUBECTL
operator_pid=
cleanup() {
  trap - EXIT INT TERM
  [ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  test/cluster/down.sh "$name" >/dev/null 2>&1 || true
  echo "make dev: stopped the operator and the control plane"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$kubectl" apply -f crds/e2e.stakater.com_runners.yaml >/dev/null
# `kubectl wait --for=condition=Established` errors out, instead of waiting, while the API server has
# not yet written any condition on a CRD just created: ask until Established is True (60 s at most).
established() {
  [ "$("$kubectl" get crd runners.e2e.stakater.com -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ]
}
for _ in $(seq 120); do established && break; sleep 0.5; done
established || { echo "make dev: the Runner CRD was not Established within 60 s" >&2; exit 1; }
HESTIA_HEALTH_PORT=0 HESTIA_METRICS_PORT=0 node src/main.ts >"${TMPDIR:-/tmp}/$name-operator.log" 2>&1 &
operator_pid=$!
"$kubectl" apply -k deploy/samples >/dev/null

cat <<MSG
Hestia is running against a local control plane (kwok: pods are simulated, images never pulled).
  kubectl:       $kubectl
  KUBECONFIG:    $KUBECONFIG
  operator log:  ${TMPDIR:-/tmp}/$name-operator.log
Try, in another shell:
  export KUBECONFIG=$KUBECONFIG
  $kubectl get runners -A                      # STATE, LAST RESULT, NEXT RUN
  node src/cli.ts describe my-generic-runner   # why a Runner did or did not run
  $kubectl annotate runner my-generic-runner runner.stakater.com/trigger=\$(date +%s) --overwrite
Watching Runners (Ctrl-C stops everything):
MSG
if [ -n "${HESTIA_DEV_SECONDS:-}" ]; then
  # --foreground: timeout stays in this process group, so Ctrl-C reaches it and the watch as without it.
  timeout --foreground "$HESTIA_DEV_SECONDS" "$kubectl" get runners -A --watch || true
else
  "$kubectl" get runners -A --watch
fi
