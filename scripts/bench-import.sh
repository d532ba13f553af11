#!/usr/bin/env bash
# CSV import benchmark (issue 7): generate a contacts file on the fly (ROWS rows, default
# 1,000,000, linked to 1,000 companies by name), then `keel import` it into a fresh
# SQLite database with the release build, under /usr/bin/time -v for peak RSS.
# Prints rows/s for the whole run (dry-run pass + import pass) and the peak RSS.
#
#   scripts/bench-import.sh            # 1,000,000 rows
#   ROWS=100000 scripts/bench-import.sh
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/keel_bench ROWS=100000 scripts/bench-import.sh
#                                      # PostgreSQL: an empty database of yours (dropped and made anew)
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-1000000}"
COMPANIES="${COMPANIES:-1000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
DB="${BENCH_DATABASE_URL:-sqlite://$WORK/bench.db}"
if [[ "$DB" == postgres* ]]; then
  # A fresh database each run: drop and create it through the server's `postgres` database.
  name="${DB##*/}"
  admin="${DB%/*}/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >/dev/null
fi
KEEL="${CARGO_TARGET_DIR:-target}/release/keel"

cargo build --release -p keel >&2

# Companies first (their own small import), then the contacts that name them.
python3 - "$WORK" "$ROWS" "$COMPANIES" <<'PY'
import csv, sys
work, rows, companies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/companies.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Company Name", "Website", "Industry"])
    for i in range(companies):
        w.writerow([f"Company {i}", f"company{i}.example.com", "Technology"])
with open(f"{work}/contacts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["First Name", "Last Name", "E-mail Address", "Company", "Job Title", "Phone", "Notes"])
    for i in range(rows):
        w.writerow([f"First{i}", f"Last{i}", f"person{i}@example.com", f"Company {i % companies}",
                    "Account Executive", "", "imported, with a comma" if i % 10 == 0 else ""])
PY
ls -l "$WORK/contacts.csv" | awk '{printf "contacts.csv: %.1f MiB\n", $5/1048576}' >&2

export DATABASE_URL="$DB"
KEEL_PASSWORD="throughput-check-pw-$RANDOM" "$KEEL" user create --email bench@keel.local --role admin --name "Import Runner" >/dev/null
"$KEEL" import "$WORK/companies.csv" --entity companies >/dev/null

start=$(date +%s.%N)
/usr/bin/time -v "$KEEL" import "$WORK/contacts.csv" --entity contacts 2> "$WORK/time.txt" | tail -2
end=$(date +%s.%N)
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$WORK/time.txt"
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{int(sys.argv[3])} rows in {s:.1f} s: {int(sys.argv[3])/s:,.0f} rows/s (dry run + import)')" "$start" "$end" "$ROWS"
if [[ "$DB" == sqlite* ]]; then
  ls -l "$WORK/bench.db" | awk '{printf "database: %.0f MiB\n", $5/1048576}'
else
  psql "$DB" -Atc "SELECT 'database: ' || pg_database_size(current_database()) / 1048576 || ' MiB'"
fi
