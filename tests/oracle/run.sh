#!/usr/bin/env bash
# Starts `kohtaamo serve --demo` (SQLite, or PostgreSQL with a URL as $1) and runs the
# pandas oracle against it. Used by scripts/test; needs target/debug/kohtaamo.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/oracle-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/oracle/requirements.txt
fi
DIR=$(mktemp -d)
ARGS=(--data-dir "$DIR")
[ -n "${1:-}" ] && ARGS+=(--database-url "$1")
BIN=target/debug/kohtaamo
KOHTAAMO_ADMIN_PASSWORD=oracle-admin-password KOHTAAMO_LOG=warn KOHTAAMO_REVIEW_CYCLE_MINUTES=0 \
  "$BIN" "${ARGS[@]}" serve --demo --bind 127.0.0.1:0 > "$DIR/out.txt" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
# Creating the demo (a year of answers, encounters, follow-ups and 400 cases) takes
# about a minute on PostgreSQL on a 2-core machine: wait up to three.
for _ in $(seq 1 360); do
  BASE=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$DIR/out.txt" | head -n1 || true)
  [ -n "$BASE" ] && break
  sleep 0.5
done
[ -n "$BASE" ] || { cat "$DIR/out.txt"; echo "FATAL: server did not start" >&2; exit 1; }
TOKEN=$(KOHTAAMO_LOG=warn "$BIN" "${ARGS[@]}" token create --user admin)
"$VENV/bin/python" tests/oracle/oracle.py "$BASE" "$TOKEN" demo
