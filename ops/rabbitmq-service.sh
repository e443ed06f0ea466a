#!/usr/bin/env bash
# Creates (or updates) the broker account of the ingest service itself ('vault serve'), with the least it needs:
# configure, write and read on the vault.ingest.* queues and exchanges (their _error queues included) and on the
# vault.reply.* reply queues it answers on; nothing else on the vhost. docs/wire-format.md, "Accounts".
# Usage: ops/rabbitmq-service.sh NAME PASSWORD [VHOST]
#   RABBITMQCTL overrides the rabbitmqctl command (the tests use "ops/services.sh rabbitmqctl").
set -euo pipefail
name="${1:?usage: ops/rabbitmq-service.sh NAME PASSWORD [VHOST]}"
password="${2:?usage: ops/rabbitmq-service.sh NAME PASSWORD [VHOST]}"
vhost="${3:-/}"
ctl=(${RABBITMQCTL:-rabbitmqctl})
scope='^vault\.(ingest|reply)\..*'
"${ctl[@]}" add_user "$name" "$password" >/dev/null 2>&1 || "${ctl[@]}" change_password "$name" "$password" >/dev/null
"${ctl[@]}" set_permissions -p "$vhost" "$name" "$scope" "$scope" "$scope" >/dev/null
echo "service account $name may configure, write and read vault.ingest.* and vault.reply.* on vhost $vhost"
