#!/usr/bin/env bash
# Where a push's CPU goes (docs/benchmarks.md): one push of a generated dataset through the real RabbitMQ into a
# fresh vault, then a restore; prints wall time, MB/s, the CPU seconds of the broker, the service and the producer
# (from /proc), and the producer's peak RSS. Run it several times: this VM varies about ±10% from run to run.
# Usage: ops/bench-push-cpu.sh [MiB]   (default 1024; the dataset is generated once under /tmp/vault-bench-data-MiB)
. "$(dirname "${BASH_SOURCE[0]}")/bench-vault.sh" "${1:-1024}"
beam=$(pgrep -f beam.smp | head -1)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
bytes=$(du -sb "$data" | cut -f1)
b0=$(cpu "$beam"); s0=$(cpu "$serve"); t0=$(date +%s.%N)
/usr/bin/time -v -o "$work/push.time" "${V[@]}" push "$data" --set b1 --source bench --amqp "$VAULT_TEST_AMQP" --no-cache --json >/dev/null
t1=$(date +%s.%N); b1=$(cpu "$beam"); s1=$(cpu "$serve")
producer=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$work/push.time")
rss=$(awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$work/push.time")
t2=$(date +%s.%N); "${V[@]}" restore b1 --to "$work/restored" >/dev/null; t3=$(date +%s.%N)
tick=$(getconf CLK_TCK)
python3 -c "
b=$bytes; w=$t1-$t0; r=$t3-$t2
print(f'push    {w:6.2f} s {b/1e6/w:6.1f} MB/s; CPU s: broker {($b1-$b0)/$tick:.1f}, service {($s1-$s0)/$tick:.1f}, producer $producer; producer peak RSS $rss MB')
print(f'restore {r:6.2f} s {b/1e6/r:6.1f} MB/s')"
