#!/usr/bin/env bash
# Stops and deletes the kwok test cluster NAME (every process and its files).
# Deleting a cluster that does not exist is not an error.
#
# Usage: test/cluster/down.sh NAME
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

name=${1:-}
if [ -z "$name" ]; then
  echo "usage: $0 NAME" >&2
  exit 2
fi

hestia_kwok_env
kwokctl=$(hestia_bin_dir)/kwokctl
cluster_dir=$KWOK_WORKDIR/clusters/$name

if [ ! -e "$cluster_dir" ]; then
  echo "down.sh: no cluster $name" >&2
  exit 0
fi
if [ ! -x "$kwokctl" ]; then
  echo "down.sh: $kwokctl missing: run test/cluster/build.sh" >&2
  exit 1
fi
start=$EPOCHREALTIME
"$kwokctl" --v="${HESTIA_KWOKCTL_LOG_LEVEL:-WARN}" delete cluster --name "$name" >&2
echo "down.sh: cluster $name deleted in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
