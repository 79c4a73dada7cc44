#!/usr/bin/env bash
# Starts a kwok test cluster named NAME: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and the kwok controller as local
# processes (kwokctl --runtime binary, nothing downloaded), on loopback ports
# that kwokctl picks, with an audit log, no client QPS limits and 2 fake nodes.
# A cluster of the same name is deleted first.
#
# Usage: eval "$(test/cluster/up.sh NAME)"
# stdout (and nothing else on stdout): KUBECONFIG=..., HESTIA_AUDIT_LOG=...,
# HESTIA_KUBECTL=..., HESTIA_CLUSTER_NAME=... ; progress and timing on stderr.
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
# defaults are listed too (vendored from kwok in stages/, see stages/sync.sh).
mkdir -p "$KWOK_WORKDIR"
config=$(mktemp "$KWOK_WORKDIR/.kwokctl-$name.XXXXXX.yaml")
trap 'rm -f "$config"' EXIT
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
  disableQPSLimits: true
EOF
  for f in "$HERE"/stages/*.yaml; do
    echo "---"
    cat "$f"
  done
} > "$config"

echo "up.sh: creating cluster $name (KWOK_WORKDIR=$KWOK_WORKDIR)" >&2
if ! kwokctl create cluster --name "$name" --config "$config" --wait 2m >&2; then
  echo "up.sh: kwokctl create cluster $name failed; component logs: $cluster_dir/logs/" >&2
  kwokctl delete cluster --name "$name" >&2 || true
  exit 1
fi
kubeconfig=$cluster_dir/kubeconfig.yaml
audit_log=$cluster_dir/logs/audit.log

kwokctl --name "$name" scale node --replicas 2 >&2
"$kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=60s >&2

echo "up.sh: cluster $name ready in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
printf 'KUBECONFIG=%q\n' "$kubeconfig"
printf 'HESTIA_AUDIT_LOG=%q\n' "$audit_log"
printf 'HESTIA_KUBECTL=%q\n' "$kubectl"
printf 'HESTIA_CLUSTER_NAME=%q\n' "$name"
