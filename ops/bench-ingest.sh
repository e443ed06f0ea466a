#!/usr/bin/env bash
# Ingest benchmark (docs/benchmarks.md): a generated dataset pushed through the real RabbitMQ into a fresh vault,
# 5% of files changed and pushed again, then restored; restic and borg (no encryption, zstd 3) back up the same data
# twice and restore it in the same run. Prints MB/s, wall times, bytes over the broker, peak RSS of each push, ratios.
# Usage: ops/bench-ingest.sh [MiB] [--small-files]   (default 1024; the dataset shape of ops/gen-dataset.py; needs
# python3; installs restic and borgbackup with apt-get when missing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size=1024; shape=""
for arg in "$@"; do case "$arg" in --small-files) shape="--small-files" ;; *) size="$arg" ;; esac; done
work="$(mktemp -d /tmp/vault-bench-XXXX)"
command -v restic >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null; }
command -v borg >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq borgbackup >/dev/null; }
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
bash ops/services.sh start
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; bash ops/services.sh stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
set -a; . ops/.services.env; set +a
cli="${VAULT_CLI:-$(ops/build-cli.sh)}" # VAULT_CLI: another build of vault.dll to measure
vault() { dotnet "$cli" "$@"; }
now() { date +%s.%N; }
rss() { awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$1"; }
cpu() { awk '/User time/ {u=$4} /System time/ {s=$4} END {printf "%.2f", u+s}' "$1"; }

python3 ops/gen-dataset.py "$work/data" "$size" $shape
bytes=$(du -sb "$work/data" | cut -f1)
export XDG_CACHE_HOME="$work/cache" VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD=bench RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$work/restic-cache"
a=$(vault approver keygen --name a --out "$work/a.key" --kdf-iterations 10000)
b=$(vault approver keygen --name b --out "$work/b.key" --kdf-iterations 10000)
vault init --approver "$a" --approver "$b" >/dev/null
dotnet "$cli" serve --amqp "$VAULT_TEST_AMQP" 2>"$work/serve.log" &
serve_pid=$! # the dotnet process itself, so cleanup stops it
sleep 4
# A service runs for days: warm it up (its first messages compile MassTransit's and RabbitMQ.Client's hot paths,
# ~2.8 CPU-s measured) with 64 MB of other data (random and text of another seed, so nothing of it deduplicates).
python3 - "$work/warm" <<'PY'
import os, random, sys
os.makedirs(sys.argv[1]); r = random.Random(99)
open(os.path.join(sys.argv[1], "random.bin"), "wb").write(r.randbytes(32 << 20))
words = ["warm", "up", "of", "the", "service", "before", "measuring"] + [str(i) for i in range(500)]
open(os.path.join(sys.argv[1], "text.txt"), "w").write(" ".join(r.choice(words) for _ in range(6_000_000)))
PY
dotnet "$cli" push "$work/warm" --set warm --source warm --amqp "$VAULT_TEST_AMQP" >/dev/null
restic init -q -r "$work/restic"
borg init --encryption=none "$work/borg"

# Each step starts after sync: none waits on the writeback of what the step before it wrote (fsyncs would); and after
# 2.5 GB written and deleted, so no tool pays this VM's cost of page cache grown into memory the host has not backed
# (0.6-2.5 s of system time per GB; docs/benchmarks.md). SETTLE=0 turns that off.
settle() {
  sync
  [ "${SETTLE:-1}" = 0 ] || { dd if=/dev/zero of="$work/settle" bs=1M count=2500 status=none; rm -f "$work/settle"; }
}
# CPU-s of a process so far (user + system), to count what the service and the broker spent on push 1
ticks() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
broker_pid=$(pgrep -f beam.smp | head -n 1)
serve0=$(ticks "$serve_pid"); broker0=$(ticks "$broker_pid")
settle; t0=$(now); /usr/bin/time -v -o "$work/push1.time" dotnet "$cli" push "$work/data" --set b1 --source bench --amqp "$VAULT_TEST_AMQP" --json >"$work/push1.json"; t1=$(now)
serve1=$(ticks "$serve_pid"); broker1=$(ticks "$broker_pid")
settle; s2=$(now); /usr/bin/time -v -o "$work/restic1.time" restic backup -q -r "$work/restic" "$work/data"; t2=$(now)
settle; s3=$(now); /usr/bin/time -v -o "$work/borg1.time" borg create --compression zstd,3 "$work/borg::b1" "$work/data"; b1=$(now)
python3 ops/change-dataset.py "$work/data"
settle; t3=$(now); /usr/bin/time -v -o "$work/push2.time" dotnet "$cli" push "$work/data" --set b2 --source bench --amqp "$VAULT_TEST_AMQP" --json >"$work/push2.json"; t4=$(now)
settle; s5=$(now); restic backup -q -r "$work/restic" "$work/data"; t5=$(now)
settle; s6=$(now); borg create --compression zstd,3 "$work/borg::b2" "$work/data"; b2=$(now)
settle; s7=$(now); vault restore b2 --to "$work/restored" >/dev/null; t6=$(now)
settle; s8=$(now); restic restore -q -r "$work/restic" latest --target "$work/restic-restored"; t7=$(now)
mkdir -p "$work/borg-restored"; settle; s9=$(now); (cd "$work/borg-restored" && borg extract "$work/borg::b2"); b3=$(now)
diff -r "$work/data" "$work/restored" >/dev/null && same=identical || same=DIFFERENT

python3 - "$bytes" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$t6" "$t7" "$work" "$same" "$(rss "$work/push1.time")" "$(rss "$work/push2.time")" "$b1" "$b2" "$b3" "$s2" "$s3" "$s5" "$s6" "$s7" "$s8" "$s9" "$(cpu "$work/push1.time")" "$(cpu "$work/restic1.time")" "$(cpu "$work/borg1.time")" \
  "$(awk "BEGIN {print $serve1 - $serve0}")" "$(awk "BEGIN {print $broker1 - $broker0}")" <<'PY'
import json, sys
b, t0, t1, t2, t3, t4, t5, t6, t7 = int(sys.argv[1]), *map(float, sys.argv[2:10])
work, same, rss1, rss2 = sys.argv[10], sys.argv[11], sys.argv[12], sys.argv[13]
b1, b2, b3 = map(float, sys.argv[14:17])
s2, s3, s5, s6, s7, s8, s9 = map(float, sys.argv[17:24])
cpu_producer, cpu_restic, cpu_borg, cpu_service, cpu_broker = map(float, sys.argv[24:29])
# each step's own time (the syncs between steps excluded): rewritten as contiguous marks for the lines below
t2, b1 = t1 + (t2 - s2), t1 + (t2 - s2) + (b1 - s3)
t5, b2 = t4 + (t5 - s5), t4 + (t5 - s5) + (b2 - s6)
t6 = b2 + (t6 - s7)
t7 = t6 + (t7 - s8)
b3 = t7 + (b3 - s9)
p1, p2 = (json.load(open(f"{work}/push{i}.json")) for i in (1, 2))
mb = b / 1e6
rows = [("vault push 1 (RabbitMQ)", t1 - t0), ("restic backup 1", t2 - t1), ("borg create 1", b1 - t2), ("vault push 2 (5% changed)", t4 - t3),
        ("restic backup 2", t5 - t4), ("borg create 2", b2 - t5), ("vault restore", t6 - b2), ("restic restore", t7 - t6), ("borg extract", b3 - t7)]
print(f"\ndataset: {mb:.0f} MB; restore {same} to the source")
for name, s in rows:
    print(f"{name:28} {s:7.2f} s {mb / s:8.1f} MB/s")
print(f"bytes over the broker: push 1 {p1['bytesSent'] / 1e6:.1f} MB, push 2 {p2['bytesSent'] / 1e6:.1f} MB "
      f"({p2['deduplicatedShare']:.1%} of push 2's segments were already in the vault)")
print(f"peak RSS: push 1 {rss1} MB, push 2 {rss2} MB")
print(f"CPU of backup 1: vault producer {cpu_producer:.2f} s (user+sys), restic {cpu_restic:.2f} s, borg {cpu_borg:.2f} s; producer / restic = {cpu_producer / cpu_restic:.2f}")
whole = cpu_producer + cpu_service + cpu_broker
print(f"whole system during push 1: producer {cpu_producer:.2f} + service {cpu_service:.2f} + broker {cpu_broker:.2f} = {whole:.2f} CPU-s; / restic = {whole / cpu_restic:.2f}")
print(f"ratios: push 1 / restic backup 1 = {(t2 - t1) / (t1 - t0):.2f}x throughput; "
      f"push 2 time / restic backup 2 time = {(t4 - t3) / (t5 - t4):.2f}; restore = {(t7 - t6) / (t6 - b2):.2f}x restic's throughput")
print(f"borg: push 1 / borg create 1 = {(b1 - t2) / (t1 - t0):.2f}x throughput; push 2 time / borg create 2 time = {(t4 - t3) / (b2 - t5):.2f}; "
      f"restore = {(b3 - t7) / (t6 - b2):.2f}x borg's throughput")
PY
