#!/usr/bin/env bash
# Recover benchmark (docs/benchmarks.md): MiB (default 1024) of generated data pushed into a vault whose two
# off-site sites are custodians on loopback ('vault site serve'); tonight's full is written and deposited; then, in
# the same run, 'vault restore' of the set from the vault and 'vault recover' of a new primary from the custodians
# alone (log, checkpoints, every image read back, segments put into a new store). Prints both times and the ratio.
# Usage: ops/bench-recover.sh [MiB]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size="${1:-1024}"
work="$(mktemp -d /tmp/vault-recover-bench-XXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
vault() { dotnet "$cli" "$@"; }
now() { date +%s.%N; }

python3 ops/gen-dataset.py "$work/data" "$size" >/dev/null
export VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD=bench XDG_CACHE_HOME="$work/cache"
a=$(vault approver keygen --name a --out "$work/a.key" --kdf-iterations 10000)
b=$(vault approver keygen --name b --out "$work/b.key" --kdf-iterations 10000)
vault init --approver "$a" --approver "$b" >/dev/null
declare -A url
for site in offsite-a offsite-b; do
  vault site init --site "$site" --root "$work/custodian-$site" --token-file "$work/$site.token" >/dev/null
  dotnet "$cli" site serve --site "$site" --root "$work/custodian-$site" --listen http://127.0.0.1:0 2>"$work/$site.log" &
  pids+=($!)
  for _ in $(seq 60); do grep -q "listening on" "$work/$site.log" && break; sleep 0.5; done
  url[$site]=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/$site.log" | head -1)
done
vault push "$work/data" --set bench --source bench --no-cache >/dev/null 2>&1
# Tonight's fulls on every day of the week (so the benchmark runs on any day), media big enough for the whole set.
python3 - "$work/policy.json" "${url[offsite-a]}" "$work/offsite-a.token" "${url[offsite-b]}" "$work/offsite-b.token" <<'PY'
import json, sys
days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
policy = {
  "format": "vault-rotation-policy/v1", "driveSite": "primary",
  "sites": [{"name": "primary", "offsite": False},
            {"name": "offsite-a", "offsite": True, "courierDays": 1, "url": sys.argv[2], "credentialFile": sys.argv[3]},
            {"name": "offsite-b", "offsite": True, "courierDays": 2, "url": sys.argv[4], "credentialFile": sys.argv[5]}],
  "pools": [{"name": "weekly", "prefix": "W", "schedule": {"days": days}, "backup": "Full", "keepDays": 35, "site": "offsite-a", "media": 4, "capacityBytes": 8 << 30, "maxPasses": 100},
            {"name": "monthly", "prefix": "M", "schedule": {"days": days}, "backup": "Full", "keepDays": 366, "site": "offsite-b", "media": 4, "capacityBytes": 8 << 30, "maxPasses": 100}],
}
json.dump(policy, open(sys.argv[1], "w"))
PY
vault rotation configure --policy "$work/policy.json" >/dev/null
vault rotation run --courier >/dev/null
bytes=$(du -sb "$work/data" | cut -f1)
echo "recover benchmark: $(date -u +%F), $(nproc) cores, $((bytes / 1000000)) MB in $(find "$work/data" -type f | wc -l) files"
for run in 1 2 3; do
  sync; t0=$(now)
  vault restore bench --to "$work/restored-$run" >/dev/null
  t1=$(now)
  vault recover --site "${url[offsite-a]}=$work/offsite-a.token" --site "${url[offsite-b]}=$work/offsite-b.token" --to "$work/rebuilt-$run" >/dev/null
  t2=$(now)
  vault restore bench --vault "$work/rebuilt-$run" --to "$work/check-$run" >/dev/null
  diff -r "$work/data" "$work/check-$run" >/dev/null && same=byte-exact || same=DIFFERS
  awk -v r="$run" -v a="$t0" -v b="$t1" -v c="$t2" -v s="$same" 'BEGIN { printf "run %d: restore %.2f s, recover %.2f s (log and checkpoints checked, images streamed back until every set is whole, segments stored and fsynced), ratio %.2f; rebuilt vault restores %s\n", r, b-a, c-b, (c-b)/(b-a), s }'
  rm -rf "$work/restored-$run" "$work/rebuilt-$run" "$work/check-$run"
done
