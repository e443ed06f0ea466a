#!/usr/bin/env bash
# The kill campaign at full size: N pushes (default 50) through a real RabbitMQ, 'vault serve' SIGKILLed at a random
# moment of each and restarted (tests/Ingest.Service.Tests/FaultTests.cs, kill_campaign_…; the suite kills twice).
# Figures to docs/reliability-kills.txt for docs/reliability.md.
# Usage: ops/campaign-kills.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-50}"
bash ops/services.sh start >/dev/null
set -a; . ops/.services.env; set +a
report="$PWD/docs/reliability-kills.txt"
VAULT_CAMPAIGN_KILLS="$kills" VAULT_CAMPAIGN_REPORT="$report" \
  dotnet test tests/Ingest.Service.Tests -c Release --filter "FullyQualifiedName~kill_campaign" >/tmp/campaign-kills.log 2>&1 \
  || { tail -40 /tmp/campaign-kills.log; exit 1; }
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  machine: $(nproc) cores, $(uname -m)  command: ops/campaign-kills.sh $kills"; cat "$report"; } > "$report.tmp" && mv "$report.tmp" "$report"
cat "$report"
