#!/usr/bin/env bash
# Shared by ops/campaign-*.sh: runs one campaign test at full size and writes its figures, headed by date, machine
# and command, to docs/reliability-NAME.txt (copied into docs/reliability.md).
# Usage: ops/campaign-run.sh NAME TEST_PROJECT FILTER SIZE_VARIABLE SIZE [services]
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1" project="$2" filter="$3" variable="$4" size="$5"
if [ "${6:-}" = services ]; then
  bash ops/services.sh start >/dev/null
  set -a; . ops/.services.env; set +a
fi
report="$PWD/docs/reliability-$name.txt"
: > "$report"
env "$variable=$size" VAULT_CAMPAIGN_REPORT="$report" \
  dotnet test "$project" -c Release --filter "$filter" >"/tmp/campaign-$name.log" 2>&1 \
  || { tail -40 "/tmp/campaign-$name.log"; exit 1; }
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  machine: $(nproc) cores, $(uname -m)  command: ops/campaign-$name.sh $size"; cat "$report"; } > "$report.tmp" && mv "$report.tmp" "$report"
cat "$report"
