#!/usr/bin/env bash
# Runs the event log benchmark against SQLite and a throwaway PostgreSQL; prints figures (docs/benchmarks.md).
# Usage: ops/bench.sh [sqlite|postgres|both] [--events N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash ops/services.sh start
trap 'bash ops/services.sh stop >/dev/null 2>&1' EXIT
set -a; . ops/.services.env; set +a
dotnet run -c Release --project tests/Vault.Benchmarks -- "$@"

# The peer, same run, same server: pgbench with 16 clients, one 300-byte row per transaction, synchronous commit on.
if [ "${1:-both}" != "sqlite" ]; then
  pgbin="$(cat ops/.services/pg/bin)"
  port="$(sed -E "s/.*Port=([0-9]+).*/\1/" <<<"$VAULT_TEST_PG")"
  PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "DROP TABLE IF EXISTS peer_rows; CREATE TABLE peer_rows (id bigserial PRIMARY KEY, payload bytea NOT NULL);"
  script="$(mktemp)"; echo "INSERT INTO peer_rows (payload) VALUES (decode(repeat('ab', 300), 'hex'));" >"$script"
  echo; echo "== peer: pgbench, 1 row per transaction =="
  for clients in 1 16; do
    printf '%2d clients: ' "$clients"
    "$pgbin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c "$clients" -j 2 -T 10 -f "$script" postgres 2>/dev/null | grep -E '^tps' | sed -E 's/ \(without initial connection time\)//'
  done
  rm -f "$script"
fi
