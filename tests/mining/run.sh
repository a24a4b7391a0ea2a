#!/usr/bin/env bash
# Starts `kohtaamo serve` on a fresh database (SQLite, or PostgreSQL with a URL as $1)
# holding tests/mining/model.yaml, and runs the pm4py cross-check against it. Used by
# scripts/test; needs target/debug/kohtaamo. pm4py (PyPI, AGPL) is installed only in
# target/pm4py-venv, for this test and the mining benchmark — never a dependency.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/pm4py-venv
if ! "$VENV/bin/python" -c 'import pm4py, jsonschema, rfc3339_validator' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/mining/requirements.txt
fi
DIR=$(mktemp -d)
ARGS=(--data-dir "$DIR")
[ -n "${1:-}" ] && ARGS+=(--database-url "$1")
BIN=target/debug/kohtaamo
KOHTAAMO_LOG=warn "$BIN" "${ARGS[@]}" import tests/mining/model.yaml
KOHTAAMO_ADMIN_PASSWORD=mining-admin-password KOHTAAMO_LOG=warn KOHTAAMO_REVIEW_CYCLE_MINUTES=0 \
  "$BIN" "${ARGS[@]}" serve --bind 127.0.0.1:0 > "$DIR/out.txt" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 120); do
  BASE=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$DIR/out.txt" | head -n1 || true)
  [ -n "$BASE" ] && break
  sleep 0.5
done
[ -n "$BASE" ] || { cat "$DIR/out.txt"; echo "FATAL: server did not start" >&2; exit 1; }
TOKEN=$(KOHTAAMO_LOG=warn "$BIN" "${ARGS[@]}" token create --user admin)
TQDM_DISABLE=1 "$VENV/bin/python" tests/mining/crosscheck.py "$BASE" "$TOKEN" "${MINING_CASES:-3000}"
