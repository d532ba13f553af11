#!/usr/bin/env bash
# Build the web app into web/dist, which the keel binary embeds (crates/keel-api/build.rs):
# run it before cargo builds keel. Installs the npm packages first when web/node_modules
# is missing or older than web/package-lock.json. Needs Node.js 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found: the web app needs Node.js 20 or newer and npm to build" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install: older than the lockfile
# means the lockfile changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing the web app's packages (npm ci)"
  npm ci --no-audit --no-fund
fi

npm run build
