#!/usr/bin/env bash
# Measure the web app: the production bundle's size, and how fast its first screens render
# against a database with 100,000 deals, in headless Chromium. Not part of `make test`:
# these are figures, recorded in docs/BENCHMARKS.md ("Web app").
#
# Usage: scripts/bench-web.sh [sqlite|postgres] [deals]          (defaults: sqlite 100000)
#   KEEL_BENCH_REUSE=1   measure the database the last run left, without re-seeding
#   KEEL_BENCH_KEEP=1    leave the PostgreSQL database keel_bench_web in place afterwards
#   KEEL_BENCH_RUNS=7    warm browser runs per user (after one cold run)
#   KEEL_BENCH_NO_BUILD=1  skip building the web app and keel (use what is built)
#
# Steps: build the web app (scripts/build-web.sh), then the release keel that embeds it;
# size web/dist (web/bench/bundle-size.mjs); seed a fresh database with `keel seed --demo`
# (companies = deals/5, contacts = deals, activities = 2 × deals); start `keel serve` on a
# free port; run web/bench/first-screen.mjs as the admin and as a rep (sam.rivera).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
deals=${2:-100000}
companies=$((deals / 5))
contacts=$deals
activities=$((deals * 2))
runs=${KEEL_BENCH_RUNS:-7}
log=/tmp/keel-bench-web-serve.log

case "$backend" in
  sqlite)
    db_file=/tmp/keel-bench-web.db
    [ -n "${KEEL_BENCH_REUSE:-}" ] || rm -f "$db_file" "$db_file-wal" "$db_file-shm"
    url="sqlite://$db_file" ;;
  postgres)
    bash scripts/ensure-postgres.sh
    [ -n "${KEEL_BENCH_REUSE:-}" ] ||
      psql -h 127.0.0.1 -U postgres -qXc "DROP DATABASE IF EXISTS keel_bench_web WITH (FORCE)" -c "CREATE DATABASE keel_bench_web"
    url="postgres://postgres@127.0.0.1:5432/keel_bench_web" ;;
  *) echo "usage: $0 [sqlite|postgres] [deals]" >&2; exit 2 ;;
esac

if [ -z "${KEEL_BENCH_NO_BUILD:-}" ]; then
  bash scripts/build-web.sh >/dev/null
  cargo build --release -p keel -q
fi
keel="${CARGO_TARGET_DIR:-target}/release/keel"
if [ web/dist/index.html -nt "$keel" ]; then
  echo "warning: web/dist is newer than $keel, which may embed an older web app" >&2
fi

echo "== web app bundle (web/dist)"
node web/bench/bundle-size.mjs
echo

if [ -z "${KEEL_BENCH_REUSE:-}" ]; then
  echo "== seeding $backend: $companies companies, $contacts contacts, $deals deals, $activities activities"
  start=$(date +%s.%N)
  DATABASE_URL=$url $keel seed --demo --companies "$companies" --contacts "$contacts" --deals "$deals" --activities "$activities"
  end=$(date +%s.%N)
  echo "seed wall time: $(python3 -c "print(round($end - $start, 1))") s"
fi
case "$backend" in
  sqlite) echo "database size: $(du -cb "$db_file"* | tail -1 | cut -f1 | numfmt --to=iec-i --suffix=B) ($db_file*)" ;;
  postgres) echo "database size: $(psql -h 127.0.0.1 -U postgres -qXAtc "SELECT pg_size_pretty(pg_database_size('keel_bench_web'))")" ;;
esac

DATABASE_URL=$url KEEL_LOG=info KEEL_LOG_FORMAT=json $keel serve --bind 127.0.0.1 --port 0 >"$log.out" 2>"$log" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "$backend" = postgres ] && [ -z "${KEEL_BENCH_KEEP:-}" ] && [ -z "${KEEL_BENCH_REUSE:-}" ]; then
    psql -h 127.0.0.1 -U postgres -qXc "DROP DATABASE IF EXISTS keel_bench_web WITH (FORCE)" || true
  fi
}
trap cleanup EXIT
base=
for _ in $(seq 1 120); do
  base=$(grep -o 'Keel is running at http://[^ /]*' "$log.out" 2>/dev/null | sed 's/Keel is running at //' || true)
  [ -n "$base" ] && curl -sf "$base/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "keel serve exited; see $log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$base" ] || { echo "keel serve did not start; see $log" >&2; exit 1; }
echo "== first screens at $base ($backend), $(nproc) cores"
node web/bench/first-screen.mjs --url "$base" --runs "$runs" --server-log "$log" \
  --json "/tmp/keel-bench-web-$backend.json" --user admin@keel.local --user sam.rivera@keel.local
echo
echo "every sample: /tmp/keel-bench-web-$backend.json; server log: $log"
