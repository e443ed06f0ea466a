#!/usr/bin/env bash
# Throwaway PostgreSQL and RabbitMQ for development and tests.
#
#   ops/services.sh start   install what is missing (apt-get), start both on free loopback ports,
#                           each with a data directory of its own under ops/.services/, and write
#                           ops/.services.env (VAULT_TEST_PG, VAULT_TEST_AMQP, ...) for the tests.
#   ops/services.sh stop    stop both and delete their data.
#   ops/services.sh status  show what runs.
#   ops/services.sh rabbitmqctl ARGS...  administer the throwaway broker.
#
# Nothing here touches a system PostgreSQL or RabbitMQ: the servers are private to this checkout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${VAULT_SERVICES_DIR:-$root/ops/.services}"
envfile="$root/ops/.services.env"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

apt_updated=""
apt_install() {
  [ "$(id -u)" = 0 ] || die "$1 is not installed and installing needs root: apt-get install $1"
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $1"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] && [ -x "$bin/initdb" ] || { apt_install postgresql; bin="$(pg_bin)"; }
  [ -x "$bin/initdb" ] || die "PostgreSQL's initdb was not found after installing"
  local dir="$state/pg" port; port="$(free_port 55432)"
  rm -rf "$dir"; mkdir -p "$dir/data" "$dir/run"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/run -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on" start >/dev/null \
    || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  echo "$bin" >"$dir/bin"
  echo "export VAULT_TEST_PG='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'" >>"$envfile.tmp"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

rmq_env() {
  local dir="$state/rabbitmq"
  export HOME="$dir/home" RABBITMQ_NODENAME="vault-test@localhost" RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbit.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_ENABLED_PLUGINS=""
  export ERL_EPMD_PORT; ERL_EPMD_PORT="$(cat "$dir/epmd_port")"
}

start_rabbitmq() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server
  local dir="$state/rabbitmq" port dist epmd
  rm -rf "$dir"; mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
  port="$(free_port 56720)"; dist="$(free_port 46720)"; epmd="$(free_port 44369)"
  echo "$epmd" >"$dir/epmd_port"; echo "$port" >"$dir/port"
  printf 'listeners.tcp.default = 127.0.0.1:%s\ndistribution.listener.port_range.min = %s\ndistribution.listener.port_range.max = %s\nloopback_users = none\n' \
    "$port" "$dist" "$dist" >"$dir/rabbitmq.conf"
  echo '[].' >"$dir/enabled_plugins"
  (
    rmq_env
    /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/server.out" 2>&1 &
    echo $! >"$dir/launcher.pid"
    /usr/lib/rabbitmq/bin/rabbitmqctl -q --timeout 90 wait "$RABBITMQ_PID_FILE" >/dev/null 2>&1 \
      || { tail -n 40 "$dir/server.out" >&2; die "RabbitMQ did not start"; }
  )
  echo "export VAULT_TEST_AMQP='amqp://guest:guest@127.0.0.1:$port/'" >>"$envfile.tmp"
  echo "export VAULT_TEST_RABBITMQ_DIR='$dir'" >>"$envfile.tmp"
  log "RabbitMQ on 127.0.0.1:$port"
}

stop_all() {
  if [ -f "$state/pg/bin" ]; then
    as_pg "$(cat "$state/pg/bin")/pg_ctl" -D "$state/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$state/rabbitmq/epmd_port" ]; then
    ( rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q --timeout 30 shutdown >/dev/null 2>&1 || true
      ERL_EPMD_PORT="$ERL_EPMD_PORT" epmd -kill >/dev/null 2>&1 || true )
    [ -f "$state/rabbitmq/launcher.pid" ] && kill "$(cat "$state/rabbitmq/launcher.pid")" 2>/dev/null || true
  fi
  rm -rf "$state" "$envfile"
}

case "${1:-}" in
  start)
    stop_all
    mkdir -p "$state"; : >"$envfile.tmp"
    start_postgres
    start_rabbitmq
    mv "$envfile.tmp" "$envfile"
    log "environment in $envfile"
    ;;
  stop) stop_all; log "stopped" ;;
  status)
    [ -f "$envfile" ] && cat "$envfile" || echo "not running"
    ;;
  pg-restart)
    # Restart the throwaway PostgreSQL (fast shutdown: sessions are cut, as in a crash or failover), for fault tests.
    [ -f "$state/pg/bin" ] || die "PostgreSQL is not running: ops/services.sh start"
    as_pg "$(cat "$state/pg/bin")/pg_ctl" -D "$state/pg/data" -m fast -w -t 60 restart >/dev/null
    ;;
  rabbitmqctl)
    # Administer the throwaway broker (vhosts, users, permissions), e.g. ops/services.sh rabbitmqctl list_queues
    shift
    [ -f "$state/rabbitmq/epmd_port" ] || die "RabbitMQ is not running: ops/services.sh start"
    rmq_env
    exec /usr/lib/rabbitmq/bin/rabbitmqctl -q "$@"
    ;;
  *) echo "usage: ops/services.sh start|stop|status|pg-restart|rabbitmqctl ARGS..." >&2; exit 2 ;;
esac
