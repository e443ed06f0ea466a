#!/usr/bin/env bash
# The main job on embedded defaults (SQLite log, in-memory transport, local segment store; nothing else running),
# in emulated time: three approvers make keys and a vault needing 2 of them; a directory is backed up every night for
# 40 days while it changes; media rotate across three sites; a one-key attacker is refused (and recorded); the primary
# site is lost and the newest set is restored from the surviving tape images, byte-exact; the log is verified.
# Usage: ops/demo.sh [WORK_DIR] [vault demo options, e.g. --source DIR --nights 60]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
shift || true
cli="$("$root/ops/build-cli.sh")"
exec dotnet "$cli" demo --work "$work" "$@"
