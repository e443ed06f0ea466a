#!/usr/bin/env bash
# The data scrub (`vault check --read-data`) against this machine's ceiling for the same work, measured in the same run:
# `openssl speed -evp sha256` (SHA-256 per core) and `zstd -b1` decompression of the same dataset (per core); and
# restic's `check --read-data` over the same data as the peer. Six scrubs alternating the default (stored bytes against
# the SHA-256 the log recorded for them) and --deep (every segment decompressed and its content hashed, libzstd),
# each as the scrub reports it (stored and plaintext MB/s, segments decompressed) and as a whole process.
# Usage: ops/bench-scrub.sh [MiB] [--small-files]   (default 1024)   Figures: docs/benchmarks.md, "Data scrub".
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size=1024; shape=""
for arg in "$@"; do case "$arg" in --small-files) shape="--small-files" ;; *) size="$arg" ;; esac; done
command -v restic >/dev/null || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null; }
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
d="$(mktemp -d /tmp/vault-bench-scrub-XXXX)"
trap 'rm -rf "$d"' EXIT
python3 ops/gen-dataset.py "$d/data" "$size" $shape >/dev/null
dotnet $cli init --vault $d/v --approver alice=$(python3 -c "print('ab'*32)") --approver bob=$(python3 -c "print('cd'*32)") >/dev/null
dotnet $cli push $d/data --vault $d/v --set s1 --source web --no-cache >/dev/null 2>&1
export RESTIC_PASSWORD=bench
restic init -r $d/restic -q >/dev/null && restic -r $d/restic backup -q $d/data >/dev/null 2>&1

echo "ceiling, one core each:"
openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null | awk '/^sha256/ {printf "  sha256 (openssl): %.0f MB/s\n", $2/1000}'
tar -cf $d/data.tar -C $d data
zstd -b1 -i3 $d/data.tar 2>&1 | tr '\r' '\n' | grep -E 'MB/s.*MB/s' | tail -n 1 | sed 's/^ */  zstd -b1 (compress, decompress): /'

for run in 1 2 3 4 5 6; do
  if [ $((run % 2)) = 0 ]; then deep=--deep; mode=deep; else deep=; mode=default; fi
  /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" dotnet $cli check --read-data $deep --vault $d/v --json >$d/out 2>/dev/null
  python3 - "$d/out" "$mode" "$run" "$(cat $d/t)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["segments"]
secs = s["seconds"]
print(f"run {sys.argv[3]} vault-{sys.argv[2]}: {secs:.2f} s scrub, {s['storedBytes']/secs/1e6:.0f} MB/s stored, "
      f"{s['plaintextBytes']/secs/1e6:.0f} MB/s of data, {s['decompressed']} of {s['checked']} decompressed; whole process {sys.argv[4]}")
PY
done
for run in 1 2; do
  /usr/bin/time -o "$d/t" -f "%e s %U u %S s %M KB" restic -r $d/restic check --read-data -q >/dev/null 2>&1
  echo "run $run restic check --read-data: $(cat $d/t)"
done
