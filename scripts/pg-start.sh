#!/usr/bin/env bash
# Starts a throw-away PostgreSQL in a temporary directory on a free port and prints
# `export` lines for KMS_TEST_POSTGRES_URL and PG_TMP_DIR. Stop it with scripts/pg-stop.sh.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/kms-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
run "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
echo "export KMS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
echo "export PG_TMP_DIR=$dir PG_BIN=$bin PG_PORT=$port"
