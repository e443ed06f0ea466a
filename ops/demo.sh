#!/usr/bin/env bash
# The main job on embedded defaults (SQLite, in-memory transport, nothing else running): three approvers make keys,
# a vault needing 2 of them is created, a real directory is backed up twice (the second time only changes travel),
# restored and compared byte for byte; a deletion is requested and approved (then cools off for 72 h), a one-key
# attacker is refused, and the tamper-evident log is shown and verified.
# Usage: ops/demo.sh [WORK_DIR]   (default: a new temporary directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
dotnet build "$root/ops/Vault.Ops" -c Release -v quiet -nologo >/dev/null
vault() { dotnet "$root/ops/Vault.Ops/bin/Release/net10.0/vault.dll" "$@"; }
export VAULT_DIR="$work/vault" VAULT_KEY_PASSWORD="demo-only-password" XDG_CACHE_HOME="$work/cache"

echo "== three approvers make their keys (each on their own machine, in real life)"
approvers=()
for who in alice bob carol; do
  approvers+=(--approver "$(vault approver keygen --name "$who" --out "$work/$who.vaultkey")")
done
printf '   %s\n' "${approvers[@]}" | grep -v -- --approver

echo; echo "== a vault whose deletions need 2 of the 3"
vault init "${approvers[@]}" --quorum 2

source_dir="$work/source"
mkdir -p "$source_dir"
cp -r "$root/docs" "$root/Vault" "$source_dir/"
head -c 20000000 /dev/urandom >"$source_dir/database.bin"
echo; echo "== back up a directory ($(du -sh "$source_dir" | cut -f1)), change a file, back it up again"
vault push "$source_dir" --set demo-night-1 --source demo-host
echo "one more line" >>"$source_dir/docs/log-format.md"
vault push "$source_dir" --set demo-night-2 --source demo-host
vault sets list

echo; echo "== restore the second night and compare it with the source"
vault restore demo-night-2 --to "$work/restored"
diff -r "$source_dir" "$work/restored" && echo "   identical: contents, and (checked by the tests) modes and mtimes"

echo; echo "== alice asks to delete a set; bob approves; the request cools off for 72 h (any approver can veto)"
vault deletion request --set demo-night-1 --reason "end of contract" --id del-demo --key "$work/alice.vaultkey" >/dev/null
vault deletion approve del-demo --key "$work/bob.vaultkey"

echo; echo "== an attacker holding only alice's key tries to approve again: refused, and recorded"
vault deletion approve del-demo --key "$work/alice.vaultkey" || echo "   (exit $?)"

echo; echo "== the log"
vault log tail -n 12
echo; vault log verify
