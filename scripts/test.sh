#!/usr/bin/env bash
# The whole test suite: formatting, lints, the layering rules, unit tests and the API
# tests on SQLite and PostgreSQL. Installs or starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-postgres.sh

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

echo "== tests (SQLite and PostgreSQL)"
cargo test --workspace
