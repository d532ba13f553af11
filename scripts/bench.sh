#!/usr/bin/env bash
# Seed a large database and time list/search requests against the release build.
# Usage: scripts/bench.sh [sqlite|postgres] [contacts]   (defaults: sqlite 1000000)
# KEEL_BENCH_REUSE=1 skips seeding and measures the database the last run left.
# Figures go to stdout; docs/BENCHMARKS.md records the ones we measured.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
contacts=${2:-1000000}
companies=$((contacts / 10))
deals=$((contacts / 5))
activities=$((contacts / 2))
port=18181
runs=30

case "$backend" in
  sqlite)
    db_file=/tmp/keel-bench.db
    [ -n "${KEEL_BENCH_REUSE:-}" ] || rm -f "$db_file" "$db_file-wal" "$db_file-shm"
    url="sqlite://$db_file" ;;
  postgres)
    bash scripts/ensure-postgres.sh
    [ -n "${KEEL_BENCH_REUSE:-}" ] ||
      psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS keel_bench WITH (FORCE)" -c "CREATE DATABASE keel_bench"
    url="postgres://postgres@127.0.0.1:5432/keel_bench" ;;
  *) echo "usage: $0 [sqlite|postgres] [contacts]" >&2; exit 2 ;;
esac

cargo build --release -p keel -q
keel="${CARGO_TARGET_DIR:-target}/release/keel"
if [ -z "${KEEL_BENCH_REUSE:-}" ]; then
  echo "== seeding $backend: $companies companies, $contacts contacts, $deals deals, $activities activities"
  start=$(date +%s.%N)
  DATABASE_URL=$url $keel seed --demo --companies "$companies" --contacts "$contacts" --deals "$deals" --activities "$activities"
  end=$(date +%s.%N)
  echo "seed wall time: $(python3 -c "print(round($end - $start, 1))") s"
fi

DATABASE_URL=$url KEEL_LOG=warn $keel serve --port $port >/tmp/keel-bench-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "localhost:$port/readyz" >/dev/null && break; sleep 0.5; done
jar=$(mktemp)
curl -sf -c "$jar" -H 'content-type: application/json' \
  -d '{"email":"admin@keel.local","password":"keel-demo-password"}' "localhost:$port/api/v1/auth/login" >/dev/null

# A cursor from deep in the list, a company id and a last name that exist.
cursor=$(curl -sf -b "$jar" "localhost:$port/api/v1/contacts?limit=200" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
company=$(curl -sf -b "$jar" "localhost:$port/api/v1/companies?limit=1&sort=name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
last=$(curl -sf -b "$jar" "localhost:$port/api/v1/contacts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["last_name"])')

measure() {
  local label=$1 path=$2 cookies=${3:-$jar}
  local times
  times=$(for _ in $(seq 1 $runs); do curl -s -o /dev/null -w '%{time_total}\n' -b "$cookies" "localhost:$port$path"; done | sort -n)
  local median p95
  median=$(echo "$times" | sed -n "$((runs / 2))p")
  p95=$(echo "$times" | sed -n "$((runs * 95 / 100))p")
  printf '| %-48s | %8.1f | %8.1f |\n' "$label" "$(python3 -c "print($median * 1000)")" "$(python3 -c "print($p95 * 1000)")"
}

echo
echo "| request ($runs runs each)                          | median ms | p95 ms |"
echo "|---|---|---|"
measure "contacts, first page (25, -updated_at)" "/api/v1/contacts"
measure "contacts, next page via cursor" "/api/v1/contacts?cursor=$cursor&limit=200"
measure "contacts sorted by last_name" "/api/v1/contacts?sort=last_name&limit=50"
measure "contacts filter last_name=$last" "/api/v1/contacts?last_name=$last"
measure "contacts filter email contains" "/api/v1/contacts?email%5Bcontains%5D=smith1&limit=25"
measure "contacts of one company (related list)" "/api/v1/companies/$company/contacts"
measure "search contacts q=joh (prefix)" "/api/v1/contacts?q=joh"
measure "search contacts q=$last with count" "/api/v1/contacts?q=$last&count=true"
measure "search companies q=glo" "/api/v1/companies?q=glo"
measure "deals amount>=500000 sorted -amount" "/api/v1/deals?amount%5Bgte%5D=50000000&sort=-amount"
measure "contacts total count (count=true)" "/api/v1/contacts?count=true&limit=1"
measure "deals totals by stage (aggregate, 200k deals)" "/api/v1/deals/aggregate?group_by=stage"

# The same requests as a sales rep: row-level security adds team and share subqueries.
rep_jar=$(mktemp)
curl -sf -c "$rep_jar" -H 'content-type: application/json' \
  -d '{"email":"sam.rivera@keel.local","password":"keel-demo-password"}' "localhost:$port/api/v1/auth/login" >/dev/null
measure "rep: contacts, first page" "/api/v1/contacts" "$rep_jar"
measure "rep: search contacts q=joh" "/api/v1/contacts?q=joh" "$rep_jar"
measure "rep: contacts count (team scope)" "/api/v1/contacts?count=true&limit=1" "$rep_jar"
measure "rep: deals totals by stage (own amounts only)" "/api/v1/deals/aggregate?group_by=stage" "$rep_jar"
measure "rep: activities, first page (via parents)" "/api/v1/activities" "$rep_jar"
