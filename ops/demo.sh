#!/usr/bin/env bash
# The main job on embedded defaults (SQLite, nothing else running): three approvers make keys, a vault is created
# with a quorum of 2, a deletion is requested and approved (then cools off for 72 h), a one-key attacker is refused,
# and the tamper-evident log is shown and verified.
# Usage: ops/demo.sh [WORK_DIR]   (default: a new temporary directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
dotnet build "$root/ops/Vault.Ops" -c Release -v quiet -nologo >/dev/null
vault() { dotnet "$root/ops/Vault.Ops/bin/Release/net10.0/vault.dll" "$@"; }
export VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD="demo-only-password"

echo "== three approvers make their keys (each on their own machine, in real life)"
approvers=()
for who in alice bob carol; do
  approvers+=(--approver "$(vault approver keygen --name "$who" --out "$work/$who.vaultkey")")
done
printf '   %s\n' "${approvers[@]}" | grep -v -- --approver

echo; echo "== a vault whose deletions need 2 of the 3"
vault init "${approvers[@]}" --quorum 2

echo; echo "== alice asks to delete a set; bob approves; the request cools off for 72 h (any approver can veto)"
vault deletion request --set web-2026-10-01 --reason "end of contract" --id del-demo --key "$work/alice.vaultkey" >/dev/null
vault deletion approve del-demo --key "$work/bob.vaultkey"

echo; echo "== an attacker holding only alice's key tries to approve again: refused, and recorded"
vault deletion approve del-demo --key "$work/alice.vaultkey" || echo "   (exit $?)"

echo; echo "== the log"
vault log tail
echo; vault log verify
