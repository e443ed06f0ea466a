#!/usr/bin/env bash
# The byte-flip campaign at full size: N random byte flips (default 1,000), ten files a round, across the stored
# segments and a tape image; vault check --read-data must find each, and no restore may return damaged data
# (tests/Vault.Ops.Tests/ByteFlipCampaignTests.cs; the suite flips 40). Figures to docs/reliability-byteflip.txt.
# Usage: ops/campaign-byteflip.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
flips="${1:-1000}"
report="$PWD/docs/reliability-byteflip.txt"
VAULT_CAMPAIGN_FLIPS="$flips" VAULT_CAMPAIGN_REPORT="$report" \
  dotnet test tests/Vault.Ops.Tests -c Release --filter "FullyQualifiedName~ByteFlipCampaignTests" >/tmp/campaign-byteflip.log 2>&1 \
  || { tail -40 /tmp/campaign-byteflip.log; exit 1; }
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  machine: $(nproc) cores, $(uname -m)  command: ops/campaign-byteflip.sh $flips"; cat "$report"; } > "$report.tmp" && mv "$report.tmp" "$report"
cat "$report"
