#!/usr/bin/env bash
# The OpenAPI document against the real server (issue 12, point 9): schemathesis (from
# PyPI, in target/schemathesis-venv) generates requests from every operation of
# /api/v1/openapi.json and checks that each answer is documented — status code,
# content type and body schema — and that none is a server error.
# Usage: tests/api-conformance/run.sh [path to the kohtaamo binary]
# Environment: ST_MAX_TIME (seconds for the generated cases, default 120).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$(realpath "${1:-$ROOT/target/debug/kohtaamo}")"
cd "$ROOT/tests/api-conformance"
VENV=../../target/schemathesis-venv
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi
WORK="$(mktemp -d)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
(cd "$WORK" && KOHTAAMO_ADMIN_PASSWORD=conformance-admin-pw \
  KOHTAAMO_LOGIN_PER_MINUTE_IP=100000 KOHTAAMO_LOGIN_PER_MINUTE_ACCOUNT=100000 \
  KOHTAAMO_FEEDBACK_PER_MINUTE_IP=0 KOHTAAMO_FEEDBACK_MIN_FILL_SECONDS=0 \
  KOHTAAMO_REVIEW_CYCLE_MINUTES=0 KOHTAAMO_ALERT_CYCLE_MINUTES=0 KOHTAAMO_LOG=error \
  exec "$BIN" serve --demo --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1) &
PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
TOKEN=$(cd "$WORK" && "$BIN" token create --user admin | tail -n1)
# One worker: schemathesis runs its workers as threads, and CPython 3.11's ast.parse
# (which hypothesis calls to describe its strategies) keeps one recursion counter for all
# threads, so two workers can fail a run with "SystemError: AST constructor recursion
# depth mismatch" (CPython gh-106905) although no answer was wrong.
# Excluded: operations that would end the run's own access or data (deleting or renaming
# the demo workspace, revoking the run's token, logging out).
"$VENV/bin/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --exclude-operation-id delete_api_v1_workspaces__ws_ \
  --exclude-operation-id put_api_v1_workspaces__ws_ \
  --exclude-operation-id delete_api_v1_tokens__id_ \
  --exclude-operation-id post_api_v1_auth_logout \
  --max-time "${ST_MAX_TIME:-120}" --workers 1 --request-timeout 10 \
  --suppress-health-check all --warnings off
