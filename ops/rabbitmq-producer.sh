#!/usr/bin/env bash
# Creates (or updates) a write-only producer account on RabbitMQ (docs/wire-format.md, "Accounts"):
# it may publish to the vault.ingest.* exchanges and declare, bind and read its own reply queue vault.reply.NAME;
# it cannot consume, purge or delete the ingest queues, nor touch another producer's replies.
# Usage: ops/rabbitmq-producer.sh NAME PASSWORD [VHOST]
#   RABBITMQCTL overrides the rabbitmqctl command (the tests use "ops/services.sh rabbitmqctl").
set -euo pipefail
name="${1:?usage: ops/rabbitmq-producer.sh NAME PASSWORD [VHOST]}"
password="${2:?usage: ops/rabbitmq-producer.sh NAME PASSWORD [VHOST]}"
vhost="${3:-/}"
[[ "$name" =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || { echo "producer name: lower-case letters, digits, '.', '_', '-'" >&2; exit 2; }
ctl=(${RABBITMQCTL:-rabbitmqctl})
reply="vault\\.reply\\.${name//./\\.}"
"${ctl[@]}" add_user "$name" "$password" >/dev/null 2>&1 || "${ctl[@]}" change_password "$name" "$password" >/dev/null
#                                         configure      write                                                      read
"${ctl[@]}" set_permissions -p "$vhost" "$name" "^${reply}\$" "^(vault\\.ingest\\.(open|segment|seal|query)|${reply})\$" "^${reply}\$" >/dev/null
echo "producer $name may publish to vault.ingest.* and read vault.reply.$name on vhost $vhost"
