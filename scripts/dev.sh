#!/usr/bin/env bash
# `make dev`: a local control plane, the CRDs, the operator, sample workloads and Runners,
# and a live view of Runners changing state. Ctrl-C stops everything it started.
# HESTIA_DEV_SECONDS=N stops it by itself after N seconds (used by its own test).
set -euo pipefail
cd "$(dirname "$0")/.."

name=${HESTIA_DEV_CLUSTER:-hestia-dev} # its own test names another, so it never replaces a developer's
eval "$(test/cluster/up.sh "$name")"
export KUBECONFIG HESTIA_KUBECTL
kubectl=$HESTIA_KUBECTL
operator_pid=
receiver_pid=
dev_dir=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
cleanup() {
  trap - EXIT INT TERM
  [ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null
  test/cluster/down.sh "$name" >/dev/null 2>&1 || true
  rm -rf "$dev_dir"
  echo "make dev: stopped the operator and the control plane"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$kubectl" apply -k crds >/dev/null
# `kubectl wait --for=condition=Established` errors out, instead of waiting, while the API server has
# not yet written any condition on a CRD just created: ask until Established is True (60 s at most).
established() {
  [ "$("$kubectl" get crd "$1" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ]
}
for crd in runners destinations notifications; do
  for _ in $(seq 120); do established "$crd.e2e.stakater.com" && break; sleep 0.5; done
  established "$crd.e2e.stakater.com" || { echo "make dev: the CRD $crd.e2e.stakater.com was not Established within 60 s" >&2; exit 1; }
done
# The sample Notification's CloudEvents go to a receiver on this machine, which prints them beside the live view.
node scripts/dev-receiver.ts "$dev_dir/receiver.port" &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$dev_dir/receiver.port" ] && break; sleep 0.1; done
[ -s "$dev_dir/receiver.port" ] || { echo "make dev: the notification receiver did not start" >&2; exit 1; }
HESTIA_NOTIFY_ALLOW_LOCAL=true HESTIA_HEALTH_PORT=0 HESTIA_METRICS_PORT=0 node dist/src/main.js >"${TMPDIR:-/tmp}/$name-operator.log" 2>&1 &
operator_pid=$!
# kwok serves pod logs from files, in the container runtime's log format, as a kubelet would: a real pytest log with
# its JUnit report becomes the log of the samples' pods, so my-junit-runner shows test counts and
# `kubectl hestia logs` has something to print (test/cluster/README.md, "Pod logs and simulated failures").
pod_log="$dev_dir/pytest.log"
stamp=$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)
awk -v t="$stamp" '{ print t " stdout F " $0 }' test/unit/fixtures/junit/pytest.log.txt >"$pod_log"
"$kubectl" apply -f - >/dev/null <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: { name: dev-sample-logs }
spec:
  selector: { matchNamespaces: [default] }
  logs: [{ logsFile: "$pod_log" }]
YAML
"$kubectl" apply -k deploy/samples >/dev/null
"$kubectl" patch destination cloudevents-receiver --type merge -p "{\"spec\":{\"address\":\"http://127.0.0.1:$(cat "$dev_dir/receiver.port")/\"}}" >/dev/null

cat <<MSG
Hestia is running against a local control plane (kwok: pods are simulated, images never pulled).
  kubectl:       $kubectl
  KUBECONFIG:    $KUBECONFIG
  operator log:  ${TMPDIR:-/tmp}/$name-operator.log
Try, in another shell:
  export KUBECONFIG=$KUBECONFIG
  $kubectl get runners -A                      # STATE, LAST RESULT, NEXT RUN
  node src/cli.ts describe my-generic-runner   # why a Runner did or did not run
  node src/cli.ts runs my-junit-runner         # its runs, with test counts
  node src/cli.ts logs my-junit-runner         # the logs of its latest run
  $kubectl annotate runner my-generic-runner runner.stakater.com/trigger=\$(date +%s) --overwrite
  $kubectl get destinations,notifications      # where news of runs goes (README "Notifications")
Watching Runners, and the notifications the sample Notification sends (Ctrl-C stops everything):
MSG
if [ -n "${HESTIA_DEV_SECONDS:-}" ]; then
  # --foreground: timeout stays in this process group, so Ctrl-C reaches it and the watch as without it.
  timeout --foreground "$HESTIA_DEV_SECONDS" "$kubectl" get runners -A --watch || true
else
  "$kubectl" get runners -A --watch
fi
