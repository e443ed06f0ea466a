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
