#!/usr/bin/env bash
# Prints the path of a Chromium executable for the browser tests (test/browser), installing Debian's
# `chromium` package when there is none. HESTIA_CHROMIUM names another executable and wins over all else.
# Usage: scripts/ensure-chromium.sh            (what `make browser` runs; may install, as root, with apt-get)
#        scripts/ensure-chromium.sh --no-install  (what the tests run: finds it or fails naming `make browser`)
set -euo pipefail

install=true
case "${1:-}" in
  '') ;;
  --no-install) install=false ;;
  *) echo "usage: $0 [--no-install]" >&2; exit 2 ;;
esac

if [ -n "${HESTIA_CHROMIUM:-}" ]; then
  # An explicit choice that does not work is an error, not a reason to pick another browser.
  [ -x "$HESTIA_CHROMIUM" ] || { echo "ensure-chromium: HESTIA_CHROMIUM=$HESTIA_CHROMIUM is not an executable file" >&2; exit 1; }
  echo "$HESTIA_CHROMIUM"
  exit 0
fi

installed() { command -v chromium || { [ -x /usr/bin/chromium ] && echo /usr/bin/chromium; }; }

if path=$(installed); then
  echo "$path"
  exit 0
fi

if [ "$install" = false ]; then
  echo "ensure-chromium: no chromium here: run 'make browser' (or set HESTIA_CHROMIUM to a Chromium executable)" >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-chromium: no chromium here, and installing it needs root and apt-get." >&2
  echo "  Install Chromium (Debian/Ubuntu: sudo apt-get install chromium), or set HESTIA_CHROMIUM to a Chromium executable." >&2
  exit 1
fi

# chromium skips its recommended fonts with --no-install-recommends: DejaVu and Liberation (metric-compatible
# with Arial, Times and Courier) give screenshots readable text.
packages=(chromium fonts-dejavu-core fonts-liberation)
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
}
# Package lists are read only when they do not know chromium yet, or are so old that a download fails.
has_candidate() { apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; }

echo "ensure-chromium: installing ${packages[*]} with apt-get" >&2
has_candidate || apt-get update -qq >&2
apt_install || { apt-get update -qq >&2 && apt_install; }

path=$(installed) || { echo "ensure-chromium: apt-get installed chromium, yet no chromium is on PATH" >&2; exit 1; }
echo "$path"
