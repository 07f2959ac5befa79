#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and the benchmark: Debian's binaries
# (/usr/lib/postgresql/<version>/bin, installed by scripts/setup.sh), a data
# directory of its own, a free port on 127.0.0.1 only, trust auth for the
# `postgres` role, no Unix socket outside the data directory. Nothing of the
# machine's own PostgreSQL service is touched.
#
#   scripts/pg-cluster.sh start DIR [--watch PID]
#       initdb DIR (when it has no cluster yet) and start it; prints the
#       server's URL (postgres://postgres@127.0.0.1:PORT/postgres). A restart of
#       the same DIR keeps its port. With --watch, the cluster is stopped and DIR
#       removed once process PID has ended (a test binary that cannot stop it).
#       With PG_CLUSTER_TLS=1 it also serves TLS, with a self-signed certificate
#       for 127.0.0.1 made by openssl (tests that a client refuses it).
#   scripts/pg-cluster.sh stop DIR
#       stops it (fast shutdown: open sessions are ended, nothing committed is lost).
#   scripts/pg-cluster.sh createdb DIR NAME
#       creates the database NAME in DIR's running cluster; prints its URL.
#   scripts/pg-cluster.sh run COMMAND...
#       starts a cluster in a temporary directory, runs COMMAND with
#       TRICKLE_TEST_POSTGRES set to its URL, stops it and removes the directory
#       whatever COMMAND did; exits with COMMAND's status.
#
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# `postgres` OS user (runuser), and DIR is made theirs.
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 2; }

bindir() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    # Resolved: a symlink on PATH (e.g. /usr/local/bin/pg_ctl) stands for the
    # directory that also has psql.
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  # Debian keeps the server binaries off PATH; take the newest version installed.
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] ||
    die "initdb and pg_ctl not found (Debian package postgresql: run scripts/setup.sh)"
  echo "$dir"
}

# as_owner CMD...: runs CMD as the cluster's owner (postgres when we are root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1 bin port
  bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "no postgres OS user (Debian package postgresql: run scripts/setup.sh)"
    chown postgres: "$dir"
    # runuser keeps the caller's working directory, which postgres may not be
    # allowed to read; a private temp dir's parents must be searchable too.
    chmod 0700 "$dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
  else
    port=$(free_port)
    echo "$port" >"$dir/port"
  fi
  local tls=""
  if [ "${PG_CLUSTER_TLS:-0}" = 1 ]; then
    if [ ! -f "$dir/server.key" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 ||
        die "openssl could not make a certificate"
      chmod 0600 "$dir/server.key"
      [ "$(id -u)" != 0 ] || chown postgres: "$dir/server.key" "$dir/server.crt"
    fi
    tls="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  fi
  # The socket lives in the data directory; TCP on 127.0.0.1 only. fsync stays on:
  # the tests check that acknowledged answers survive a restart.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/data -c listen_addresses=127.0.0.1 -c max_connections=200 $tls" \
    start >/dev/null || { tail -n 20 "$dir/server.log" >&2; die "the server did not start"; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case "${1:-}" in
  start)
    [ $# -ge 2 ] || die "usage: $0 start DIR [--watch PID]"
    dir=$2
    url=$(start "$dir")
    if [ "${3:-}" = --watch ] && [ -n "${4:-}" ]; then
      watched=$4
      # Detached from the caller's pipes, so a test harness reading our stdout
      # is not held open by the watcher.
      (
        while kill -0 "$watched" 2>/dev/null; do sleep 1; done
        stop "$dir" || true
        rm -rf "$dir"
      ) </dev/null >/dev/null 2>&1 &
      disown
    fi
    echo "$url"
    ;;
  stop)
    [ $# -ge 2 ] || die "usage: $0 stop DIR"
    stop "$2"
    ;;
  createdb)
    [ $# -ge 3 ] || die "usage: $0 createdb DIR NAME"
    [[ $3 =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name $3: lowercase letters, digits and _ only"
    port=$(cat "$2/port") || die "$2 has no cluster"
    "$(bindir)/psql" -q -X -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "CREATE DATABASE $3" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/$3"
    ;;
  run)
    shift
    [ $# -ge 1 ] || die "usage: $0 run COMMAND..."
    dir=$(mktemp -d /tmp/trickle-pg.XXXXXX)
    # shellcheck disable=SC2064 # expand $dir now
    trap "stop '$dir' || true; rm -rf '$dir'" EXIT
    trap 'exit 130' INT TERM HUP
    TRICKLE_TEST_POSTGRES=$(start "$dir")
    export TRICKLE_TEST_POSTGRES
    echo "[pg-cluster] PostgreSQL at $TRICKLE_TEST_POSTGRES (data in $dir)" >&2
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    die "usage: $0 start DIR [--watch PID] | stop DIR | createdb DIR NAME | run COMMAND..."
    ;;
esac
