#!/usr/bin/env bash
# Runs CMD against a fresh test cluster that exists only for the duration of CMD.
#
# Usage: test/cluster/with-cluster.sh CMD [ARG...]
#
# Builds missing binaries (build.sh), starts a uniquely named cluster (up.sh),
# exports KUBECONFIG, HESTIA_AUDIT_LOG, HESTIA_KUBECTL, HESTIA_CLUSTER_NAME and
# HESTIA_KUBE_BIN_DIR to CMD, runs it, and always deletes the cluster
# afterwards: on success, failure, SIGINT, SIGTERM or SIGHUP. Exits with
# CMD's exit code (128+N if stopped by signal N).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

HESTIA_KUBE_BIN_DIR=$("$HERE/build.sh" | tail -1)
export HESTIA_KUBE_BIN_DIR

name=hestia-test-$$
child=

# shellcheck disable=SC2317 # invoked by trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  "$HERE/down.sh" "$name" || echo "with-cluster.sh: deleting cluster $name failed" >&2
  exit "$rc"
}
# shellcheck disable=SC2317 # invoked by trap
on_signal() {
  # CMD runs in the background (so that `wait` can be interrupted); without job
  # control it ignores SIGINT, hence SIGTERM is what gets forwarded.
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  exit $((128 + $1))
}
trap cleanup EXIT
trap 'on_signal 2' INT
trap 'on_signal 15' TERM
trap 'on_signal 1' HUP

env_lines=$("$HERE/up.sh" "$name")
eval "$env_lines"
export KUBECONFIG HESTIA_AUDIT_LOG HESTIA_KUBECTL HESTIA_CLUSTER_NAME

# `<&0`: a background command's stdin would otherwise be /dev/null.
"$@" <&0 &
child=$!
set +e
wait "$child"
rc=$?
set -e
child=
exit "$rc"
