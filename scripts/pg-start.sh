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
# TLS with a throw-away CA and a certificate for `localhost`, plus a second, unrelated CA, so the
# sslmode tests can tell a verified chain from an unverified one.
tls="$dir/tls"; mkdir -p "$tls"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kms test CA" -keyout "$tls/ca.key" -out "$tls/ca.crt"
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" -keyout "$tls/other.key" -out "$tls/other-ca.crt"
ossl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$tls/ext.cnf"
ossl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.crt"
chmod 600 "$tls/server.key"; chmod 644 "$tls/ca.crt" "$tls/other-ca.crt" "$tls/server.crt"
[ "$(id -u)" = 0 ] && chown postgres "$tls/server.key" "$tls/server.crt"
opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key"
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null
echo "export KMS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
echo "export PG_TMP_DIR=$dir PG_BIN=$bin PG_PORT=$port"
echo "export KMS_TEST_POSTGRES_CA=$tls/ca.crt KMS_TEST_OTHER_CA=$tls/other-ca.crt"
echo "export PG_OPTS='$opts'"
