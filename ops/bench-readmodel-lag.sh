#!/usr/bin/env bash
# Read-model lag under a push (docs/benchmarks.md, "Read models"): 'vault serve' on PostgreSQL and the real RabbitMQ,
# with /metrics; a generated dataset pushed through the broker; then the histogram of the read models' lag (a record's
# commit to the log -> its commit to the read models) is read from /metrics and its percentiles printed, with the
# records folded and 'vault read-models verify' at the end.
# Usage: [SERVE_GC=unit|cli] ops/bench-readmodel-lag.sh [MiB]   (default 1024; needs python3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size="${1:-1024}"
work="$(mktemp -d /tmp/vault-bench-lag-XXXX)"
bash ops/services.sh start
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; bash ops/services.sh stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
set -a; . ops/.services.env; set +a
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
vault() { dotnet "$cli" "$@"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
schema="lag_$(date +%s)"

python3 ops/gen-dataset.py "$work/data" "$size"
export XDG_CACHE_HOME="$work/cache" VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD=bench VAULT_POSTGRES="$VAULT_TEST_PG"
a=$(vault approver keygen --name a --out "$work/a.key" --kdf-iterations 10000)
b=$(vault approver keygen --name b --out "$work/b.key" --kdf-iterations 10000)
vault init --approver "$a" --approver "$b" --pg-schema "$schema" >/dev/null
# The daemon as ops/vault-serve.service runs it (its GC settings, not the CLI's batch ones); SERVE_GC=cli: the CLI's.
if [ "${SERVE_GC:-unit}" = unit ]; then export_gc="DOTNET_gcServer=1 DOTNET_gcConcurrent=1 DOTNET_GCConserveMemory=0"; else export_gc=""; fi
env $export_gc dotnet "$cli" serve --amqp "$VAULT_TEST_AMQP" --listen "http://127.0.0.1:$port" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/health/live" >/dev/null && break; sleep 0.5; done
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
broker_pid=$(pgrep -f beam.smp | head -1 || true)
s0=$(cpu "$serve_pid"); b0=$(cpu "${broker_pid:-self}")
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$work/push.cpu" dotnet "$cli" push "$work/data" --set lag-1 --source bench --amqp "$VAULT_TEST_AMQP" --json >"$work/push.json"
t1=$(date +%s.%N)
s1=$(cpu "$serve_pid"); b1=$(cpu "${broker_pid:-self}")
read -r pu ps <"$work/push.cpu"
echo "CPU during the push: producer $(echo "$pu + $ps" | bc) s, service (vault serve) $(echo "$s1 - $s0" | bc) s, broker $(echo "$b1 - $b0" | bc) s"

sleep 2
curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
vault read-models verify >"$work/verify.txt" && verified=agree || verified=DIFFER
python3 - "$work/metrics.txt" "$t0" "$t1" "$verified" "$size" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
t0, t1, verified, size = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
buckets = sorted(((float('inf') if le == '+Inf' else float(le)), float(v))
                 for le, v in re.findall(r'vault_readmodels_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)', text))
count = buckets[-1][1] if buckets else 0
def pct(p):
    for le, v in buckets:
        if v >= p * count:
            return le
    return float('nan')
applied = sum(float(v) for v in re.findall(r'^vault_readmodels_applied_total\{?[^ ]*\}? (\S+)', text, re.M))
total = sum(float(v) for v in re.findall(r'^vault_readmodels_lag_seconds_sum\{?[^ ]*\}? (\S+)', text, re.M))
print(f"push of {size} MiB through RabbitMQ in {t1 - t0:.1f} s; {applied:.0f} records folded in {count:.0f} catch-ups")
print(f"read-model lag (upper bucket bound): p50 <= {pct(0.5)} s, p99 <= {pct(0.99)} s, max <= {pct(1.0)} s; mean {total / max(count, 1):.3f} s")
print(f"read models against a full replay after the push: {verified}")
PY
