#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions invoked by trap
# Runs CMD against a fresh test cluster that exists only for the duration of CMD.
#
# Usage: test/cluster/with-cluster.sh CMD [ARG...]
#
# Builds missing binaries (build.sh), starts a uniquely named cluster (up.sh),
# exports KUBECONFIG, HESTIA_AUDIT_LOG, HESTIA_KUBECTL, HESTIA_CLUSTER_NAME,
# HESTIA_KUBE_FEATURE_GATES (the control plane's) and
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
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# Clusters left by a with-cluster.sh that was killed outright (SIGKILL, power
# loss): their name carries the PID of a process that no longer exists.
for d in "$(hestia_kwok_workdir)"/clusters/hestia-test-*; do
  [ -d "$d" ] || continue
  pid=${d##*/hestia-test-}
  case $pid in '' | *[!0-9]*) continue ;; esac
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-cluster.sh: deleting stale cluster ${d##*/}" >&2
    "$HERE/down.sh" "${d##*/}" || true
  fi
done

name=hestia-test-$$
child=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  "$HERE/down.sh" "$name" || echo "with-cluster.sh: deleting cluster $name failed" >&2
  exit "$rc"
}
descendants() { # PID -> its descendants' PIDs, parents first
  local p
  for p in $(pgrep -P "$1"); do
    echo "$p"
    descendants "$p"
  done
}
any_alive() {
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}
on_signal() {
  # CMD runs in the background (so that `wait` can be interrupted); without job
  # control it ignores SIGINT, hence SIGTERM is what gets forwarded, to CMD and
  # to everything it started (a shell does not pass signals on to its children).
  local pids
  if [ -n "$child" ]; then
    read -r -a pids <<<"$child $(descendants "$child" | tr '\n' ' ')"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do # up to 5 s for the rest to exit, then KILL
      any_alive "${pids[@]}" || break
      sleep 0.5
    done
    if any_alive "${pids[@]}"; then kill -KILL "${pids[@]}" 2>/dev/null || true; fi
  fi
  exit $((128 + $1))
}
trap cleanup EXIT
trap 'on_signal 2' INT
trap 'on_signal 15' TERM
trap 'on_signal 1' HUP

env_lines=$("$HERE/up.sh" "$name")
eval "$env_lines"
export KUBECONFIG HESTIA_AUDIT_LOG HESTIA_KUBECTL HESTIA_CLUSTER_NAME HESTIA_KUBE_FEATURE_GATES

# `<&0`: a background command's stdin would otherwise be /dev/null.
"$@" <&0 &
child=$!
set +e
wait "$child"
rc=$?
set -e
child=
exit "$rc"
