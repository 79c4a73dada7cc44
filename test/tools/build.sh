#!/usr/bin/env bash
# Builds one of the Go tools that tests use as real clients of the operator (kstatus, a Lua VM as
# Argo CD runs it, a Prometheus text parser, helm, OLM's validators, ...), and prints the path of
# its binary as the last line on stdout:
#
#   KSTATUS=$(test/tools/build.sh kstatus | tail -1)
#
# Each tool is a Go module of its own in test/tools/<name>/ (go.mod, go.sum, and either Go files
# of package main, or a file `package` naming the upstream main package to build, e.g.
# helm.sh/helm/v4/cmd/helm). The binary is cached outside the repo under a key made of those
# files, so it is rebuilt only when they change:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/hestia/tools/<name>-<hash>/<name>
# Progress and timings go to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:?usage: test/tools/build.sh NAME}
dir=$HERE/$name
[ -f "$dir/go.mod" ] || { echo "build.sh: no Go module in test/tools/$name" >&2; exit 2; }

key=$(cd "$dir" && find . -maxdepth 1 -type f \( -name 'go.mod' -o -name 'go.sum' -o -name '*.go' -o -name package \) -print0 |
  sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
out_dir=${XDG_CACHE_HOME:-$HOME/.cache}/hestia/tools/$name-$key
bin=$out_dir/$name
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
[ -n "$GO" ] || { echo "build.sh: need Go >= 1.26 to build test/tools/$name" >&2; exit 1; }

mkdir -p "$out_dir"
exec 9>"$out_dir/.build.lock" # two test runs building the same tool at once wait for each other
flock 9
if [ ! -x "$bin" ]; then
  pkg=.
  [ -f "$dir/package" ] && pkg=$(tr -d '[:space:]' <"$dir/package")
  start=$(date +%s)
  echo "build.sh: building $name ($pkg) ..." >&2
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false -trimpath" "$GO" build -ldflags "-s -w" -o "$out_dir/.$name.tmp" "$pkg")
  mv -f "$out_dir/.$name.tmp" "$bin"
  echo "build.sh: built $name in $(($(date +%s) - start)) s" >&2
fi
echo "$bin"
