#!/usr/bin/env bash
# Make sure /usr/bin/chromium exists for the end-to-end tests (web/e2e): install
# Debian's chromium package with apt when it is missing. Exits non-zero if it still
# cannot be had: the browser tests are never skipped.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then exit 0; fi

echo "Chromium is not installed; installing it with apt" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "error: $CHROMIUM is missing and installing it needs root (no sudo here)" >&2
    exit 1
  fi
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

if [ ! -x "$CHROMIUM" ]; then
  echo "error: installing chromium did not give $CHROMIUM" >&2
  exit 1
fi
