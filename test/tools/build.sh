#!/usr/bin/env bash
# Builds one of the Go tools that tests use as real clients of the operator (kstatus, a Lua VM as
# Argo CD runs it, a Prometheus text parser, helm, OLM's validators, ...), and prints the path of
# its binary as the last line on stdout:
#
#   KSTATUS=$(test/tools/build.sh kstatus | tail -1)
#   test/tools/build.sh --all        # every tool, and the modules tests read files from (make tools)
#   test/tools/build.sh --path NAME  # only prints the path; exits 3, building nothing, when it is not built
#
# Tests never build: they ask for --path (test/support/tools.ts), and `make test` runs --all first.
# A folder with a file `modules` instead of a main package is not a tool: --all downloads the
# modules it lists into the Go module cache (checked against its go.sum), for tests that read them.
#
# Each tool is a Go module of its own in test/tools/<name>/ (go.mod, go.sum, and either Go files
# of package main, or a file `package` naming the upstream main package to build, e.g.
# helm.sh/helm/v4/cmd/helm). The binary is cached outside the repo under a key made of those
# files, so it is rebuilt only when they change:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/hestia/tools/<name>-<hash>/<name>
# Progress and timings go to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: test/tools/build.sh NAME | --path NAME | --all"

GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi

if [ "${1:-}" = --all ]; then
  for d in "$HERE"/*/; do
    d=${d%/}
    [ -f "$d/go.mod" ] || continue
    if [ -f "$d/modules" ]; then
      [ -n "$GO" ] || { echo "build.sh: need Go >= 1.26 to download the modules of test/tools/${d##*/}" >&2; exit 1; }
      # shellcheck disable=SC2046 # one module path per word
      (cd "$d" && GOFLAGS=-mod=readonly "$GO" mod download $(grep -v '^#' modules)) || exit 1
      echo "build.sh: modules of ${d##*/} in the Go module cache" >&2
    else
      "$0" "${d##*/}" >/dev/null || exit 1
    fi
  done
  exit 0
fi
only_path=
if [ "${1:-}" = --path ]; then
  only_path=1
  shift
fi
name=${1:?$usage}
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
if [ -n "$only_path" ]; then
  echo "build.sh: test/tools/$name is not built (no $bin): run 'make tools' first ('make test' does)" >&2
  exit 3
fi

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
