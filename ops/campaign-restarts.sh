#!/usr/bin/env bash
# The restart campaign at full size: N RabbitMQ restarts and N PostgreSQL restarts (default 10 each), each in the
# middle of a push (tests/Ingest.Service.Tests/BrokerRestartTests.cs; the suite restarts each once).
# Figures to docs/reliability-restarts.txt for docs/reliability.md.
# Usage: ops/campaign-restarts.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
restarts="${1:-10}"
bash ops/services.sh start >/dev/null
set -a; . ops/.services.env; set +a
report="$PWD/docs/reliability-restarts.txt"
: > "$report"
VAULT_CAMPAIGN_RESTARTS="$restarts" VAULT_CAMPAIGN_REPORT="$report" \
  dotnet test tests/Ingest.Service.Tests -c Release --filter "FullyQualifiedName~BrokerRestartTests" >/tmp/campaign-restarts.log 2>&1 \
  || { tail -40 /tmp/campaign-restarts.log; exit 1; }
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  machine: $(nproc) cores, $(uname -m)  command: ops/campaign-restarts.sh $restarts"; cat "$report"; } > "$report.tmp" && mv "$report.tmp" "$report"
cat "$report"
