#!/usr/bin/env bash
# Embedded push and restore (no broker), the vault with the system libzstd and with ZstdSharp (VAULT_ZSTD=managed),
# restic and borg (no encryption, zstd 3), interleaved, three runs, whole-process times and peak RSS (docs/benchmarks.md).
# Each timed command starts after sync, so none waits on the writeback of what the one before it wrote. Nothing is
# deleted between timed steps: a run's repositories and restores are removed after the run, 31 s before the next,
# because ext4 without a journal (this machine's root) skips inodes deleted in the last 30 s one by one when it
# allocates new ones, which taxed whichever tool created many files just after a deletion (docs/benchmarks.md).
# Each timed step also starts after 2.5 GB written and deleted (settle): on this VM, page cache grown into memory the
# host has not backed costs 0.6-2.5 s of system time per GB written, memory just freed 0.13 s, so whichever tool
# happened to write into fresh memory paid up to 2 s more (docs/benchmarks.md). Settled, every tool writes into
# memory the VM already holds, as on a machine without that cost. SETTLE=0 turns it off.
# Usage: ops/bench-embedded.sh [MiB] [--small-files]   (default 1024; the dataset shape of ops/gen-dataset.py;
# installs restic with apt-get when missing). RUNS=1 MODES=native for one run of the shipped zstd only (a 10 GiB
# dataset: RUNS=1 MODES=native ops/bench-embedded.sh 10240 --small-files, ~15 min and ~35 GB of /tmp).
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size=1024; shape=""
for arg in "$@"; do case "$arg" in --small-files) shape="--small-files" ;; *) size="$arg" ;; esac; done
command -v restic >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null; }
command -v borg >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq borgbackup >/dev/null; }
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
d="$(mktemp -d /tmp/vault-bench-embedded-XXXX)"
trap 'rm -rf "$d"' EXIT
python3 ops/gen-dataset.py "$d/data" "$size" $shape >/dev/null
export RESTIC_PASSWORD=bench
settle() {
  sync
  [ "${SETTLE:-1}" = 0 ] || { dd if=/dev/zero of="$d/settle" bs=1M count=2500 status=none; rm -f "$d/settle"; }
}
vault_runs() {
  for mode in ${MODES:-native managed}; do
    if [ $mode = managed ]; then export VAULT_ZSTD=managed; else unset VAULT_ZSTD; fi
    dotnet $cli init --vault $d/v-$mode --approver alice=$(python3 -c "print('ab'*32)") --approver bob=$(python3 -c "print('cd'*32)") >/dev/null
    settle; VAULT_DEBUG=1 /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" dotnet $cli push $d/data --vault $d/v-$mode --set s1 --source web --no-cache >/dev/null 2>"$d/push.err"; p=$(cat "$d/t")
    settle; VAULT_DEBUG=1 /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" dotnet $cli restore s1 --vault $d/v-$mode --to $d/r-$mode >/dev/null 2>"$d/restore.err"; r=$(cat "$d/t")
    echo "run $run vault-$mode push: $p  restore: $r"
    # A failed step says why (its last progress line and the error, with VAULT_DEBUG's details) instead of a bare status.
    case "$p$r" in *"non-zero status"*) for f in push restore; do tail -c 4000 "$d/$f.err" | tr '\r' '\n' | grep -v "MB/s$" | sed "s/^/  $f: /"; done ;; esac
  done
  unset VAULT_ZSTD
}
restic_run() {
  restic init -r $d/restic -q >/dev/null
  settle; /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" restic -r $d/restic backup -q $d/data >/dev/null 2>&1; p=$(cat "$d/t")
  settle; /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" restic -r $d/restic restore latest -q --target $d/rr >/dev/null 2>&1; r=$(cat "$d/t")
  echo "run $run restic push: $p  restore: $r"
}
borg_run() {
  # borg 1.2, as issue "Speed" measured it: no encryption, zstd level 3 (one process, same data, same disk)
  mkdir -p $d/rb; borg init --encryption=none $d/borg
  settle; /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" borg create --compression zstd,3 $d/borg::s1 $d/data >/dev/null 2>&1; p=$(cat "$d/t")
  settle; (cd $d/rb && /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" borg extract $d/borg::s1 >/dev/null 2>&1); r=$(cat "$d/t")
  echo "run $run borg push: $p  restore: $r"
}
# The order alternates between runs (vault first in odd runs, last in even ones): a tool's place in a run can cost
# it 15-20% on this VM (docs/benchmarks.md), so no tool keeps the same place in every run.
for run in $(seq "${RUNS:-3}"); do
  [ $run -gt 1 ] && { rm -rf $d/v-* $d/r-* $d/restic $d/rr $d/borg $d/rb; sync; sleep 31; }
  if [ $((run % 2)) -eq 1 ]; then vault_runs; restic_run; borg_run; else borg_run; restic_run; vault_runs; fi
done
diff -rq $d/data $d/r-native/ >/dev/null 2>&1 && echo "restore byte-exact (native)" || diff -rq $d/data $d/r-native | head -3
