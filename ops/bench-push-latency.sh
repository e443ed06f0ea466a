#!/usr/bin/env bash
# Latency of short commands and of a second push (docs/benchmarks.md): a fresh vault and `vault serve` on the real
# RabbitMQ, a first push of a generated dataset, 5% of files changed, then wall times of `--version`, `sets list`, a
# push of an empty directory, the second push, and a third push with nothing new. Each figure includes process start.
# Usage: ops/bench-push-latency.sh [MiB]   (default 1024; dataset generated once under /tmp/vault-bench-data-MiB;
#        VAULT_CLI=path/to/vault.dll measures another build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size="${1:-1024}"
data="/tmp/vault-bench-data-$size"
[ -d "$data" ] || python3 ops/gen-dataset.py "$data" "$size"
bash ops/services.sh start >/dev/null
set -a; . ops/.services.env; set +a
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
work="$(mktemp -d /tmp/vault-bench-XXXX)"
V=(dotnet "$cli")
export VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD=bench XDG_CACHE_HOME="$work/cache"
a=$("${V[@]}" approver keygen --name a --out "$work/a.key" --kdf-iterations 10000)
b=$("${V[@]}" approver keygen --name b --out "$work/b.key" --kdf-iterations 10000)
"${V[@]}" init --approver "$a" --approver "$b" >/dev/null
"${V[@]}" serve --amqp "$VAULT_TEST_AMQP" 2>"$work/serve.log" & serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
sleep 4
cp -r "$data" "$work/data"
mkdir -p "$work/empty"
"${V[@]}" push "$work/data" --set b1 --source bench --amqp "$VAULT_TEST_AMQP" --json >/dev/null
python3 ops/change-dataset.py "$work/data" >/dev/null
timed() { # label, command...
  local label="$1"; shift
  local s; s=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  python3 -c "print(f'{\"$label\":34} {$(date +%s.%N) - $s:6.2f} s')"
}
timed "vault --version" "${V[@]}" --version
timed "vault sets list" "${V[@]}" sets list
timed "push of an empty directory" "${V[@]}" push "$work/empty" --set e1 --source empty --amqp "$VAULT_TEST_AMQP"
timed "second push (5% of files changed)" "${V[@]}" push "$work/data" --set b2 --source bench --amqp "$VAULT_TEST_AMQP"
timed "third push (nothing new)" "${V[@]}" push "$work/data" --set b3 --source bench --amqp "$VAULT_TEST_AMQP"
