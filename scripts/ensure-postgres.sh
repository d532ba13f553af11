#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 with trust auth for user postgres:
# start the cluster if it is down, install it with apt if it is missing. Exits non-zero
# if it still cannot be reached: the test suite never skips its PostgreSQL half.
set -euo pipefail

reachable() {
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

start_cluster() {
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$version" ] || return 1
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
}

wait_up() {
  for _ in $(seq 1 30); do
    reachable && return 0
    sleep 1
  done
  return 1
}

if reachable; then exit 0; fi

echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it" >&2
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "PostgreSQL is not installed; installing it with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Local test server only: trust connections from this machine, as the suite expects.
  sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)(peer|md5|scram-sha-256)$/\1\2trust/' "$hba"
  sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "$hba"
fi
start_cluster || true
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)
[ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
if wait_up; then exit 0; fi
echo "error: PostgreSQL could not be started on 127.0.0.1:5432" >&2
exit 1
