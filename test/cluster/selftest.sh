#!/usr/bin/env bash
# Self-test of the test cluster harness. Run it as
#
#   test/cluster/selftest.sh
#
# It re-runs itself under with-cluster.sh (fresh cluster, always deleted) unless
# it is already inside one (HESTIA_CLUSTER_NAME set). Uses only the built
# kubectl; waits by polling (kubectl wait), never by sleeping.
# Prints one line per check with its time, then "N passed, M failed";
# exits non-zero if any check failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${HESTIA_CLUSTER_NAME:-}" ]; then
  exec "$HERE/with-cluster.sh" "$HERE/selftest.sh" "$@"
fi
: "${KUBECONFIG:?}" "${HESTIA_KUBECTL:?}" "${HESTIA_AUDIT_LOG:?}"

TIMEOUT=60s
IMAGE=registry.invalid/hestia/never-pulled:0 # kwok runs no containers

k() { "$HESTIA_KUBECTL" "$@"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

passed=0
failed=0
check() { # check NAME FUNCTION: runs FUNCTION in namespace selftest-NAME
  local name=$1 fn=$2 t0 ns=selftest-$1
  t0=$EPOCHREALTIME
  # Not in an `if`: errexit is off inside a tested subshell.
  set +e
  (
    set -e
    k create namespace "$ns" >/dev/null
    "$fn" "$ns"
  ) >"$tmp/$name.log" 2>&1
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok   $name ($(elapsed "$t0") s)"
  else
    failed=$((failed + 1))
    echo "FAIL $name ($(elapsed "$t0") s)"
    sed 's/^/    /' "$tmp/$name.log"
    k get all,events -n "$ns" -o wide 2>&1 | sed 's/^/    /' || true
  fi
}

# The apiserver serves Prometheus metrics to the admin client of the kubeconfig.
t_metrics() {
  local metrics
  metrics=$(k get --raw /metrics) # (no `| grep -q`: SIGPIPE under pipefail)
  grep -q '^apiserver_request_total{' <<<"$metrics"
}

# Every request lands in the audit log (level Metadata).
t_audit_log() {
  k get configmap -n "$1" -o name >/dev/null
  grep -q "\"namespace\":\"$1\"" "$HESTIA_AUDIT_LOG"
}

# A 2-replica Deployment becomes Available with 2 ready (simulated) pods.
t_deployment() {
  k create deployment web -n "$1" --image="$IMAGE" --replicas=2
  k wait -n "$1" deployment/web --for=condition=Available --timeout=$TIMEOUT
  k wait -n "$1" deployment/web --for=jsonpath='{.status.readyReplicas}'=2 --timeout=$TIMEOUT
}

job() { # job NAME [POD_LABELS_YAML]: a Job manifest on stdout
  cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {app: selftest${2:+, $2}}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: $IMAGE
EOF
}

# A Job's pod completes (stage pod-complete) and the Job is Complete.
t_job_complete() {
  job ok | k apply -n "$1" -f -
  k wait -n "$1" job/ok --for=condition=Complete --timeout=$TIMEOUT
}

# A Job whose pod template carries the chaos label fails (stage
# pod-container-running-failed) and the Job is Failed.
t_job_failed() {
  job bad '"pod-container-running-failed.stage.kwok.x-k8s.io": "true"' | k apply -n "$1" -f -
  k wait -n "$1" job/bad --for=condition=Failed --timeout=$TIMEOUT
  local code
  code=$(k get pods -n "$1" -l job-name=bad \
    -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
  [ "$code" = 1 ]
}

# Deleting a Job's controlling owner garbage-collects the Job and its pod.
t_garbage_collection() {
  k create configmap owner -n "$1"
  local uid
  uid=$(k get configmap owner -n "$1" -o jsonpath='{.metadata.uid}')
  job owned | sed "/^  name: owned\$/a\\
  ownerReferences:\\
    - {apiVersion: v1, kind: ConfigMap, name: owner, uid: $uid, controller: true, blockOwnerDeletion: true}" |
    k apply -n "$1" -f -
  k wait -n "$1" job/owned --for=condition=Complete --timeout=$TIMEOUT
  k delete configmap owner -n "$1"
  k wait -n "$1" job/owned --for=delete --timeout=$TIMEOUT
  k wait -n "$1" pod -l job-name=owned --for=delete --timeout=$TIMEOUT
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$EPOCHREALTIME
echo "selftest: cluster $HESTIA_CLUSTER_NAME, kubectl $HESTIA_KUBECTL"
check metrics t_metrics
check audit-log t_audit_log
check deployment t_deployment
check job-complete t_job_complete
check job-failed t_job_failed
check garbage-collection t_garbage_collection
echo "$passed passed, $failed failed ($(elapsed "$t0") s)"
[ "$failed" -eq 0 ]
