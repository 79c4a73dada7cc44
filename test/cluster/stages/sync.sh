#!/usr/bin/env bash
# Re-vendors kwok's stage files from the sigs.k8s.io/kwok module pinned in
# ../k8s/go.mod (one-off, when kwok is upgraded; the results are committed).
# Each copy gets a header naming its origin and licence.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"

kwok_dir=$(cd "$HERE/../k8s" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$kwok_dir/kustomize/stage" ] || { echo "sync.sh: kwok sources not found" >&2; exit 1; }

# The five stages kwokctl loads by default (dropped as soon as a config holds
# any Stage) plus the chaos stage that lets a test fail a pod on purpose.
# kwokctl's default node heartbeat is the "-with-lease" variant whenever node
# leases are on (nodeLeaseDurationSeconds defaults to 40): kwok renews the
# Lease and rewrites Node status only every ~10 min, not every 20-45 s.
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
  pod/chaos/pod-container-running-failed.yaml; do
  {
    echo "# Copied unmodified from sigs.k8s.io/kwok $KWOK_VERSION, kustomize/stage/$f"
    echo "# by test/cluster/stages/sync.sh."
    echo "#"
    echo "# Copyright The Kubernetes Authors."
    echo "# Licensed under the Apache License, Version 2.0 (the \"License\");"
    echo "# you may not use this file except in compliance with the License."
    echo "# You may obtain a copy of the License at"
    echo "#     http://www.apache.org/licenses/LICENSE-2.0"
    echo "# Unless required by applicable law or agreed to in writing, software"
    echo "# distributed under the License is distributed on an \"AS IS\" BASIS,"
    echo "# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied."
    echo "# See the License for the specific language governing permissions and"
    echo "# limitations under the License."
    cat "$kwok_dir/kustomize/stage/$f"
  } > "$HERE/$(basename "$f")"
  echo "stages: $(basename "$f")" >&2
done
