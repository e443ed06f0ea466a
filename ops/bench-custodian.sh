#!/usr/bin/env bash
# Custodian benchmark (docs/benchmarks.md): the shipped CLI's 'vault site serve' on loopback receives an image of
# MiB (default 1024) three times, hashing it as it arrives, and serves it back; prints MB/s and the custodian's peak
# RSS, with sha256sum of the same file as the reference of the same run.
# Usage: ops/bench-custodian.sh [MiB]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cli="${VAULT_CLI:-$(ops/build-cli.sh)}"
dotnet run -c Release --project tests/Rotation.Benchmarks -- custodian "$cli" "${1:-1024}"
