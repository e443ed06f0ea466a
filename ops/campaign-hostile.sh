#!/usr/bin/env bash
# The hostile-producer campaign at full size: N messages (default 10,000) over 19 classes on every ingest queue of a
# real RabbitMQ, good pushes interleaved (tests/Ingest.Service.Tests/HostileCampaignTests.cs; the suite runs 380).
# Prints the figures and writes them to docs/reliability-hostile.txt for docs/reliability.md.
# Usage: ops/campaign-hostile.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
messages="${1:-10000}"
bash ops/services.sh start >/dev/null
set -a; . ops/.services.env; set +a
report="$PWD/docs/reliability-hostile.txt"
VAULT_CAMPAIGN_MESSAGES="$messages" VAULT_CAMPAIGN_REPORT="$report" \
  dotnet test tests/Ingest.Service.Tests -c Release --filter "FullyQualifiedName~HostileCampaignTests" --logger "console;verbosity=normal" >/tmp/campaign-hostile.log 2>&1 \
  || { tail -40 /tmp/campaign-hostile.log; exit 1; }
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  machine: $(nproc) cores, $(uname -m)  command: ops/campaign-hostile.sh $messages"; cat "$report"; } > "$report.tmp" && mv "$report.tmp" "$report"
cat "$report"
