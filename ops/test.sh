#!/usr/bin/env bash
# Runs every test against a real PostgreSQL and RabbitMQ: starts both (ops/services.sh), runs
# 'dotnet test' on the whole solution, stops them again, and ends with one line 'tests: N passed, N failed'.
# Extra arguments go to 'dotnet test' (e.g. --filter Postgres).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The producer written in another language (tests/node-producer) needs its AMQP client.
if command -v npm >/dev/null; then
  (cd tests/node-producer && npm ci --no-audit --no-fund --silent) || { echo "tests: npm ci in tests/node-producer failed" >&2; exit 1; }
fi

bash ops/services.sh start || { echo "tests: could not start PostgreSQL and RabbitMQ" >&2; exit 1; }
trap 'bash ops/services.sh stop >/dev/null 2>&1' EXIT
set -a; . ops/.services.env; set +a

log="$(mktemp)"
dotnet test Vault.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Passed: *([0-9]+).*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed.*/\1/' | awk '{s+=$1} END {print s+0}')
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "dotnet test exited $status" >&2; fi
echo "tests: $passed passed, $failed failed"
exit "$status"
