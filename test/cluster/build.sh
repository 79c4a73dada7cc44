#!/usr/bin/env bash
# Builds the binaries of the hermetic test control plane from source, with Go,
# into a cache directory keyed by their versions, and prints that directory as
# the last line on stdout:
#
#   BIN=$(test/cluster/build.sh | tail -1)
#
# Idempotent: only missing binaries are built. If HESTIA_KUBE_BIN_DIR is set,
# that directory is used (and filled if something is missing).
# Progress and timings go to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

BIN_DIR=$(hestia_bin_dir)
BINARIES="kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl etcd"

missing() {
  local b out=""
  for b in $BINARIES; do
    [ -x "$BIN_DIR/$b" ] || out="$out $b"
  done
  echo "${out# }"
}

todo=$(missing)
if [ -z "$todo" ]; then
  echo "build.sh: all binaries present in $BIN_DIR" >&2
  echo "$BIN_DIR"
  exit 0
fi

GO=$(command -v go || true)
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  echo "build.sh: need Go >= 1.26 to build:$todo (or set HESTIA_KUBE_BIN_DIR to a directory holding them)" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
# Two callers building at once (e.g. parallel test runs) would fight over the
# Go build cache and the outputs: serialise them.
exec 9>"$BIN_DIR/.build.lock"
flock 9
todo=$(missing) # another process may have built them meanwhile

export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false -trimpath"

# Make `kube-apiserver --version` / `kubectl version` say v1.36.3 instead of
# v0.0.0: kwokctl reads the apiserver's version to choose its flags.
k8s_minor=${K8S_VERSION#v1.}
k8s_minor=${k8s_minor%%.*}
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS="$K8S_LDFLAGS -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done
KWOK_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION"

build() { # build NAME MODULE_DIR PACKAGE LDFLAGS
  local name=$1 dir=$2 pkg=$3 ldflags=$4 start end
  start=$(date +%s)
  echo "build.sh: building $name ($pkg) ..." >&2
  (cd "$dir" && "$GO" build -ldflags "$ldflags" -o "$BIN_DIR/.$name.tmp" "$pkg")
  mv -f "$BIN_DIR/.$name.tmp" "$BIN_DIR/$name" # atomic: never a half-written binary
  end=$(date +%s)
  echo "build.sh: built $name in $((end - start)) s" >&2
}

total_start=$(date +%s)
for b in $todo; do # sequential on purpose: each build already uses every core
  case $b in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl)
      build "$b" "$HERE/k8s" "k8s.io/kubernetes/cmd/$b" "$K8S_LDFLAGS" ;;
    kwok | kwokctl)
      build "$b" "$HERE/k8s" "sigs.k8s.io/kwok/cmd/$b" "$KWOK_LDFLAGS" ;;
    etcd)
      build "$b" "$HERE/etcd" "." "-s -w" ;;
  esac
done
echo "build.sh: built$( [ -n "$todo" ] && echo " $todo" || echo " nothing") in $(($(date +%s) - total_start)) s into $BIN_DIR" >&2
echo "$BIN_DIR"
