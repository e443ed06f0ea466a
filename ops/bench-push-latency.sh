#!/usr/bin/env bash
# Latency of short commands and of a second push (docs/benchmarks.md): a fresh vault and `vault serve` on the real
# RabbitMQ, a first push of a generated dataset, 5% of files changed, then wall times of `--version`, `sets list`, a
# push of an empty directory, the second push, and a third push with nothing new. Each figure includes process start.
# Usage: ops/bench-push-latency.sh [MiB]   (default 1024; dataset generated once under /tmp/vault-bench-data-MiB;
#        VAULT_CLI=path/to/vault.dll measures another build)
. "$(dirname "${BASH_SOURCE[0]}")/bench-vault.sh" "${1:-1024}"
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
