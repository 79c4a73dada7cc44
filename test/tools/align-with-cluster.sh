#!/usr/bin/env bash
# Raises every module that a tool's module (test/tools/<name>) shares with the control plane's
# (test/cluster/k8s) to the control plane's version, where that is newer, then tidies it.
# Packages compiled from the same module versions with the same dependencies are then compiled once
# per Go build cache: a cold CI machine, which builds the control plane first, builds less for the
# tool. Run it after changing a tool's requirements (one-off; the go.mod / go.sum it writes are
# committed):
#
#   test/tools/align-with-cluster.sh helm
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$HERE/${1:?usage: test/tools/align-with-cluster.sh NAME}
export GOFLAGS=-mod=mod

# "path version" per module of the build list, replacements resolved (the control plane replaces the
# k8s.io staging modules).
selected() { (cd "$1" && go list -m -f '{{.Path}} {{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' all | sort); }
# The control plane's module is read from a copy: listing its build list records go.mod checksums in go.sum.
cluster=$(mktemp -d)
trap 'rm -rf "$cluster"' EXIT
cp "$HERE"/../cluster/k8s/go.mod "$HERE"/../cluster/k8s/go.sum "$HERE"/../cluster/k8s/*.go "$cluster"/
upgrades=$(join <(selected "$dir") <(selected "$cluster") | while read -r path ours theirs; do
  [ "$ours" = "$theirs" ] && continue
  newest=$(printf '%s\n%s\n' "${ours#v}" "${theirs#v}" | sort -V | tail -1)
  if [ "v$newest" = "$theirs" ]; then echo "$path@$theirs"; fi
done)
cd "$dir"
raised=0
# One at a time: raising one module may raise another past the control plane's version, and then
# asking for the older one fails; that one keeps the version the tool needs.
for m in $upgrades; do
  if go get "$m" 2>/dev/null; then raised=$((raised + 1)); else echo "align-with-cluster.sh: kept ${m%@*} (another requirement needs it newer)" >&2; fi
done
go mod tidy
echo "align-with-cluster.sh: raised $raised modules of test/tools/$1 to the control plane's versions" >&2
