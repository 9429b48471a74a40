#!/usr/bin/env bash
# Stop the throwaway cluster that start-test-postgres.sh started and remove its folder.
#   bash scripts/stop-test-postgres.sh "$YUEFU_TEST_PG_DIR"
set -euo pipefail
DATA="${1:?usage: stop-test-postgres.sh DATA_DIR}"
BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")"
if [ "$(id -u)" -eq 0 ]; then
  su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$DATA' -m fast stop" >/dev/null || true
else
  "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null || true
fi
rm -rf "$(dirname "$DATA")"
