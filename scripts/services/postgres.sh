#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 for tests and benchmarks, from Debian's postgresql package
# (no systemd, no system cluster touched).
#
#   scripts/services/postgres.sh start   # prints the connection URL when the server accepts them
#   scripts/services/postgres.sh stop
#
# Settings (environment): PG_DIR (default $TMPDIR/spool-postgres; the cluster lives in PG_DIR/data),
# PG_PORT (default 55432). fsync is off: this instance is for tests, whose durability claims are
# about Spool, not about the database's disk.
set -euo pipefail
PG_DIR=${PG_DIR:-${TMPDIR:-/tmp}/spool-postgres}
PG_PORT=${PG_PORT:-55432}

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$dir/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin
  bin=$(bindir)
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_DIR"
    runuser -u postgres -- test -w "$PG_DIR" ||
      { echo "the postgres user cannot write to $PG_DIR (check the parent directories' permissions)" >&2; exit 1; }
  fi
  [ -f "$PG_DIR/data/PG_VERSION" ] ||
    as_owner "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log"
  as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" \
    start >/dev/null
  echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

stop() {
  [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  as_owner "$(bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
