# shellcheck shell=bash
# Shared by the scripts in test/cluster/ (sourced, not run).
# Versions come from the committed go.mod files, so they are stated once.

HESTIA_CLUSTER_DIR=${HESTIA_CLUSTER_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

_gomod_version() { # _gomod_version GO_MOD MODULE -> version of a require line
  awk -v m="$2" '{ i = ($1 == "require") ? 2 : 1 }
    ($i == m && $(i + 1) ~ /^v/) { print $(i + 1); exit }' "$1"
}

K8S_VERSION=$(_gomod_version "$HESTIA_CLUSTER_DIR/k8s/go.mod" k8s.io/kubernetes)
KWOK_VERSION=$(_gomod_version "$HESTIA_CLUSTER_DIR/k8s/go.mod" sigs.k8s.io/kwok)
ETCD_VERSION=$(_gomod_version "$HESTIA_CLUSTER_DIR/etcd/go.mod" go.etcd.io/etcd/server/v3)
if [ -z "$K8S_VERSION" ] || [ -z "$KWOK_VERSION" ] || [ -z "$ETCD_VERSION" ]; then
  echo "test/cluster: cannot read versions from k8s/go.mod and etcd/go.mod" >&2
  exit 1
fi

# Root of everything the harness caches outside the repo.
hestia_cache_dir() {
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/hestia"
}

# Where the binaries live: $HESTIA_KUBE_BIN_DIR, or a directory keyed by versions.
hestia_bin_dir() {
  if [ -n "${HESTIA_KUBE_BIN_DIR:-}" ]; then
    echo "$HESTIA_KUBE_BIN_DIR"
  else
    echo "$(hestia_cache_dir)/k8s-$K8S_VERSION-etcd-${ETCD_VERSION#v}-kwok-${KWOK_VERSION#v}/bin"
  fi
}

# kwokctl's work dir (KWOK_WORKDIR) for our clusters: $dir/clusters/<name>/.
# Our own, so that a developer's personal kwok clusters are never touched.
hestia_kwok_workdir() {
  echo "${HESTIA_KWOK_WORKDIR:-$(hestia_cache_dir)/kwok}"
}

# Environment for kwokctl: kwokctl takes defaults for its options from KWOK_*
# variables (KWOK_RUNTIME, KWOK_KUBE_VERSION, ...); a developer's own must not
# leak into the test cluster. Only KWOK_WORKDIR is set, to ours.
hestia_kwok_env() {
  local v
  for v in $(compgen -e); do
    case $v in KWOK_*) unset "$v" ;; esac
  done
  KWOK_WORKDIR=$(hestia_kwok_workdir)
  export KWOK_WORKDIR
}
