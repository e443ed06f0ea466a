# Sourced by the push benchmarks (not run on its own): the generated dataset, the throwaway services, a fresh vault
# with two approvers, and `vault serve` on the real RabbitMQ. Leaves: root, data, work, V (the CLI command), serve
# (its pid); cleans up on exit. Expects $1 = dataset size in MiB (default 1024); VAULT_CLI selects another vault.dll.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
size="${1:-1024}"
data="/tmp/vault-bench-data-$size"
[ -d "$data" ] || python3 ops/gen-dataset.py "$data" "$size"
bash ops/services.sh start >/dev/null
set -a; . ops/.services.env; set +a
work="$(mktemp -d /tmp/vault-bench-XXXX)"
V=(dotnet "${VAULT_CLI:-$(ops/build-cli.sh)}")
export VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD=bench XDG_CACHE_HOME="$work/cache"
a=$("${V[@]}" approver keygen --name a --out "$work/a.key" --kdf-iterations 10000)
b=$("${V[@]}" approver keygen --name b --out "$work/b.key" --kdf-iterations 10000)
"${V[@]}" init --approver "$a" --approver "$b" >/dev/null
"${V[@]}" serve --amqp "$VAULT_TEST_AMQP" 2>"$work/serve.log" & serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
sleep 4
