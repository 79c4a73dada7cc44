#!/usr/bin/env bash
# Starts a kwok test cluster named NAME: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and the kwok controller as local
# processes (kwokctl --runtime binary, nothing downloaded), on loopback ports
# that kwokctl picks, with an audit log, no client QPS limits, 2 fake nodes,
# pod logs served by kwok, and Hestia's stages (README.md). Feature gates:
# HESTIA_KUBE_FEATURE_GATES (default ShardedListAndWatch=true, Kubernetes'
# alpha sharded lists, which replicas sharing Runners use where offered; set
# it empty for a server as Kubernetes ships it).
# A cluster of the same name is deleted first.
#
# Usage: eval "$(test/cluster/up.sh NAME)"
# stdout (and nothing else on stdout): KUBECONFIG=..., HESTIA_AUDIT_LOG=...,
# HESTIA_KUBECTL=..., HESTIA_CLUSTER_NAME=..., HESTIA_KUBE_FEATURE_GATES=... ;
# progress and timing on stderr.
# Stop it with test/cluster/down.sh NAME.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

name=${1:-}
if ! [[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]]; then
  echo "usage: $0 NAME   (NAME: lower-case letters, digits and '-')" >&2
  exit 2
fi

start=$EPOCHREALTIME
BIN_DIR=$("$HERE/build.sh" | tail -1) # builds only what is missing
hestia_kwok_env
kwokctl() { "$BIN_DIR/kwokctl" --v="${HESTIA_KWOKCTL_LOG_LEVEL:-WARN}" "$@"; }
kubectl=$BIN_DIR/kubectl
cluster_dir=$KWOK_WORKDIR/clusters/$name

if [ -e "$cluster_dir" ]; then
  echo "up.sh: cluster $name exists: deleting it first" >&2
  kwokctl delete cluster --name "$name" >&2 || rm -rf "$cluster_dir"
fi

# kwokctl's configuration: all binaries local, loopback only, and the stages.
# Once a config holds any Stage, kwokctl drops its default stages, so the
# defaults are listed too (vendored from kwok in stages/, see stages/sync.sh),
# next to Hestia's own (stages/hestia-*.yaml). Pod logs: kwok's Logs and
# ClusterLogs kinds are CRDs (enableCRDs), so that tests choose a pod's log at
# run time (test/integration/support/pod-behaviour.ts); kwok then serves it
# to the API server as a kubelet would. See README.md, "Pod logs and
# simulated failures".
mkdir -p "$KWOK_WORKDIR"
feature_gates=${HESTIA_KUBE_FEATURE_GATES-ShardedListAndWatch=true}
config=$(mktemp "$KWOK_WORKDIR/.kwokctl-$name.XXXXXX.yaml")
ready=
on_exit() { # on failure or interruption, leave no half-started cluster behind
  rm -f "$config"
  if [ -z "$ready" ] && [ -e "$cluster_dir" ]; then
    echo "up.sh: starting cluster $name failed; last lines of its component logs:" >&2
    for f in "$cluster_dir"/logs/*.log; do
      case $f in */audit.log) continue ;; esac
      [ -e "$f" ] && { echo "== ${f##*/}"; tail -n 5 "$f"; } >&2
    done
    kwokctl delete cluster --name "$name" >&2 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
{
  cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeApiserverBinary: $BIN_DIR/kube-apiserver
  kubeControllerManagerBinary: $BIN_DIR/kube-controller-manager
  kubeSchedulerBinary: $BIN_DIR/kube-scheduler
  kubectlBinary: $BIN_DIR/kubectl
  kwokControllerBinary: $BIN_DIR/kwok
  etcdBinary: $BIN_DIR/etcd
  kubeAuditPolicy: $HERE/audit-policy.yaml
  disableQPSLimits: ${HESTIA_QPS_LIMITS_DISABLED:-true}
  kubeFeatureGates: "$feature_gates"
  enableCRDs:
  - Logs
  - ClusterLogs
EOF
  for f in "$HERE"/stages/*.yaml; do
    echo "---"
    cat "$f"
  done
} > "$config"

# kwokctl picks ports by probing downwards from 32767, skipping those in other
# clusters' saved configs: two creates at once pick the same ports. Serialise
# them (fd 8 is closed for kwokctl so that the cluster's processes do not
# inherit, and so hold, the lock).
exec 8>"$KWOK_WORKDIR/.create.lock"
if ! flock -w 600 8; then
  echo "up.sh: another up.sh held $KWOK_WORKDIR/.create.lock for 10 min" >&2
  exit 1
fi
echo "up.sh: creating cluster $name (KWOK_WORKDIR=$KWOK_WORKDIR)" >&2
kwokctl create cluster --name "$name" --config "$config" --wait 1m >&2 8>&-
exec 8>&-
kubeconfig=$cluster_dir/kubeconfig.yaml
audit_log=$cluster_dir/logs/audit.log

kwokctl --name "$name" scale node --replicas 2 >&2
"$kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=60s >/dev/null
# Until the node lifecycle controller lifts the node.kubernetes.io/not-ready
# NoSchedule taint (well under a second after Ready), no pod can be scheduled.
# kubectl wait cannot wait for a field to be absent: poll.
deadline=$((SECONDS + 60))
while [ -n "$("$kubectl" --kubeconfig "$kubeconfig" get nodes \
  -o jsonpath='{.items[*].spec.taints[?(@.key=="node.kubernetes.io/not-ready")].key}')" ]; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "up.sh: nodes still tainted node.kubernetes.io/not-ready after 60 s" >&2
    exit 1
  fi
  sleep 0.2
done
ready=1

echo "up.sh: cluster $name ready in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
printf 'KUBECONFIG=%q\n' "$kubeconfig"
printf 'HESTIA_AUDIT_LOG=%q\n' "$audit_log"
printf 'HESTIA_KUBECTL=%q\n' "$kubectl"
printf 'HESTIA_CLUSTER_NAME=%q\n' "$name"
printf 'HESTIA_KUBE_FEATURE_GATES=%q\n' "$feature_gates"
