#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster on loopback for the tests that need a server, and print
# the URL to export as YUEFU_TEST_PG. Installs the server with apt when it is missing.
#   eval "$(bash scripts/start-test-postgres.sh)"    # sets YUEFU_TEST_PG
# The cluster lives in a temporary folder (owned by the 'postgres' user when run as root, as
# initdb refuses to run as root); stop it with: pg_ctl -D "$YUEFU_TEST_PG_DIR" stop
set -euo pipefail
PORT="${YUEFU_TEST_PG_PORT:-5433}"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgresql: installing" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
DIR="$(mktemp -d /tmp/yuefu-pg.XXXXXX)"
RUN=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR"
  RUN=(su postgres -s /bin/sh -c)
else
  RUN=(sh -c)
fi
"${RUN[@]}" "'$BIN/initdb' -D '$DIR/data' -U yuefu --auth=trust -E UTF8 >'$DIR/initdb.log' 2>&1"
"${RUN[@]}" "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c fsync=off\" start >/dev/null"
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U yuefu yuefu_test
echo "export YUEFU_TEST_PG=postgresql://yuefu@127.0.0.1:$PORT/yuefu_test"
echo "export YUEFU_TEST_PG_DIR=$DIR/data"
