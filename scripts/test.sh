#!/usr/bin/env bash
# The whole test suite: the web app's checks, formatting, lints, the layering rules, unit
# tests, the API tests on SQLite and PostgreSQL, and the browser tests on both. Installs
# or starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh

# The workflow tests send email to a real SMTP server: Python's aiosmtpd.
if ! python3 -c "import aiosmtpd" 2>/dev/null; then
  python3 -m pip install --quiet aiosmtpd || true
  if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    echo "aiosmtpd (the workflow tests' SMTP server) could not be installed: python3 -m pip install aiosmtpd" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
fi

# The MCP tests drive `keel mcp` and `/mcp` with a real MCP client: the official Python
# SDK (used only by tests; pinned to the version they were written against).
MCP_SDK_VERSION=2.3.0
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_SDK_VERSION')" 2>/dev/null; then
  python3 -m pip install --quiet "mcp==$MCP_SDK_VERSION" || true
  if ! python3 -c "import mcp.client.streamable_http" 2>/dev/null; then
    echo "the MCP SDK (the MCP tests' client) could not be installed: python3 -m pip install mcp==$MCP_SDK_VERSION" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
fi

# First: cargo embeds web/dist into the binary, so the tests below run the real web app.
echo "== web"
bash scripts/build-web.sh
npm --prefix web run lint
npm --prefix web run typecheck
npm --prefix web test

echo "== format"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets -- -D warnings

echo "== layering: the domain knows no SQL or HTTP; the API never talks to sqlx directly"
if cargo tree -p keel-domain -e normal --prefix none | grep -Eq '^(sqlx|axum) '; then
  echo "keel-domain must not depend on sqlx or axum" >&2; exit 1
fi
if cargo tree -p keel-api -e normal --depth 1 --prefix none | grep -Eq '^(sqlx|keel-store) '; then
  echo "keel-api must not depend on sqlx or keel-store directly" >&2; exit 1
fi
if cargo tree -p keel-automation -e normal --depth 1 --prefix none | grep -Eq '^(sqlx|keel-store) '; then
  echo "keel-automation must not depend on sqlx or keel-store directly: it calls keel-service" >&2; exit 1
fi
if cargo tree -p keel-assistant -e normal --depth 1 --prefix none | grep -Eq '^(sqlx|keel-store) '; then
  echo "keel-assistant must not depend on sqlx or keel-store directly: its tools call keel-service as the user" >&2; exit 1
fi

echo "== tests (SQLite and PostgreSQL)"
cargo test --workspace

echo "== end-to-end (Chromium)"
bash scripts/ensure-chromium.sh
cargo build -p keel
npm --prefix web run e2e
