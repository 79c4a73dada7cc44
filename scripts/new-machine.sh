#!/usr/bin/env bash
# What a new contributor gets: a fresh clone of the committed HEAD, run with an empty HOME, so that every
# cache starts cold (Node.js 24 from the npm registry, npm's cache, the Go module and build caches, the
# control plane, the Go tools). Runs `make test` there (or the make targets given) and prints the wall time.
#
#   scripts/new-machine.sh            # make test
#   scripts/new-machine.sh dev        # make dev (Ctrl-C stops it)
#
# Keeps the clone and the HOME for a look afterwards (their paths are printed); delete them by hand.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hestia-new-machine.XXXXXX")
git clone --quiet "$repo" "$work/hestia"
mkdir "$work/home"
echo "new-machine: clone $work/hestia of $(git -C "$repo" rev-parse --short HEAD), HOME=$work/home" >&2
# Only what a login on a new machine has: none of this shell's cache or Go settings carry over.
# A Node.js this project fetched earlier is not on a new machine's PATH either.
clean_path=$(tr ':' '\n' <<<"$PATH" | grep -v '/\.cache/hestia/' | paste -sd: -)
start=$(date +%s)
set +e
(cd "$work/hestia" && env -u XDG_CACHE_HOME -u GOPATH -u GOMODCACHE -u GOCACHE -u HESTIA_KUBE_BIN_DIR -u HESTIA_KWOK_WORKDIR \
  -u KUBECONFIG HOME="$work/home" PATH="$clean_path" make "${@:-test}")
rc=$?
set -e
echo "new-machine: make ${*:-test} exited $rc after $(($(date +%s) - start)) s (clone $work/hestia, HOME $work/home)" >&2
exit $rc
