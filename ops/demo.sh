#!/usr/bin/env bash
# The main job on embedded defaults (SQLite, nothing else running): create a vault, show its log, verify it.
# Usage: ops/demo.sh [VAULT_DIR]   (default: a new temporary directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vault_dir="${1:-$(mktemp -d)/vault}"
dotnet build "$root/ops/Vault.Ops" -c Release -v quiet -nologo >/dev/null
vault() { dotnet "$root/ops/Vault.Ops/bin/Release/net10.0/vault.dll" "$@"; }
vault init --vault "$vault_dir"
echo
vault log tail --vault "$vault_dir"
echo
vault log verify --vault "$vault_dir"
