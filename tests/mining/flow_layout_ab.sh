#!/usr/bin/env bash
# The flow rollups' table layout, A/B (docs/BENCHMARKS.md, seventeenth session): the
# 90-day flow over HTTP on copies of one database kept by `MINING_KEEP=1
# scripts/bench-mining` — its three mining_flow_* tables WITHOUT ROWID (as migration
# 0024 leaves them) against the same rows in ordinary rowid tables (as 0023 made them).
# Each copy is served in turn by the release binary, SETTLE seconds after start, and
# the flow read READS times, two rounds.
# Usage: SETTLE=45 READS=100 tests/mining/flow_layout_ab.sh KEPT_DATA_DIR
# (SKIP_COPY=1 reuses the copies of an earlier run.)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$1; BIN=$PWD/target/release/kohtaamo; READS=${READS:-100}
AB=${BENCH_DIR:-/tmp}/flow-layout-ab
[ -n "${SKIP_COPY:-}" ] || for v in without rowid; do
  rm -rf $AB/$v && mkdir -p $AB/$v
  sqlite3 "$SRC/kohtaamo.db" "VACUUM INTO '$AB/$v/kohtaamo.db'"
done
[ -n "${SKIP_COPY:-}" ] || sqlite3 $AB/rowid/kohtaamo.db <<'SQL'
BEGIN;
CREATE TABLE a2 (workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE, journey_id BIGINT NOT NULL, by_kind INTEGER NOT NULL, day BIGINT NOT NULL,
  act TEXT NOT NULL, on_before BIGINT NOT NULL, on_after BIGINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (journey_id, by_kind, day, act, on_before, on_after));
CREATE TABLE e2 (workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE, journey_id BIGINT NOT NULL, by_kind INTEGER NOT NULL, day BIGINT NOT NULL,
  prev_day BIGINT NOT NULL, from_act TEXT NOT NULL, to_act TEXT NOT NULL, on_before BIGINT NOT NULL, on_after BIGINT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (journey_id, by_kind, day, prev_day, from_act, to_act, on_before, on_after));
CREATE TABLE s2 (workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE, journey_id BIGINT NOT NULL, by_kind INTEGER NOT NULL, day BIGINT NOT NULL,
  stage INTEGER NOT NULL, prev_same BIGINT NOT NULL, prev_later BIGINT NOT NULL, next_later BIGINT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (journey_id, by_kind, day, stage, prev_same, prev_later, next_later));
INSERT INTO a2 SELECT * FROM mining_flow_acts; INSERT INTO e2 SELECT * FROM mining_flow_edges; INSERT INTO s2 SELECT * FROM mining_flow_stages;
DROP TABLE mining_flow_acts; DROP TABLE mining_flow_edges; DROP TABLE mining_flow_stages;
ALTER TABLE a2 RENAME TO mining_flow_acts; ALTER TABLE e2 RENAME TO mining_flow_edges; ALTER TABLE s2 RENAME TO mining_flow_stages;
COMMIT;
SQL
for v in without rowid; do
  echo "$v: $(sqlite3 $AB/$v/kohtaamo.db "SELECT group_concat(name || (CASE WHEN sql LIKE '%WITHOUT ROWID' THEN ' without rowid' ELSE ' rowid' END), ', ') FROM sqlite_schema WHERE type='table' AND name LIKE 'mining_flow%'")"
done
for round in 1 2; do
for v in without rowid; do
  D=$AB/$v
  KOHTAAMO_LOG=warn KOHTAAMO_REVIEW_CYCLE_MINUTES=0 "$BIN" --data-dir $D serve --bind 127.0.0.1:0 > $D/out.txt 2>&1 &
  PID=$!
  for _ in $(seq 1 120); do BASE=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' $D/out.txt | head -n1 || true); [ -n "$BASE" ] && break; sleep 0.5; done
  TOKEN=$(KOHTAAMO_LOG=warn "$BIN" --data-dir $D token create --user admin)
  sleep "${SETTLE:-0}"
  python3 - "$BASE" "$TOKEN" "$v" "$READS" <<'PY'
import json, math, statistics, sys, time, urllib.request
base, token, v, reads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def get(p):
    req = urllib.request.Request(base + p, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=600) as r: return r.read()
trip = next(j["id"] for j in json.loads(get("/api/v1/workspaces/mining/journeys"))["items"] if j["slug"] == "trip")
q = f"/api/v1/workspaces/mining/journeys/{trip}/flow?from=2026-01-01&to=2026-03-31&by=case"
lat = []
for _ in range(reads):
    t = time.perf_counter(); f = json.loads(get(q)); lat.append((time.perf_counter() - t) * 1000)
lat.sort()
p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)]
print(f"{v}: source {f['source']}, {f['instances']:,} instances, {len(f['edges'])} edges; {reads} reads: median {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms, max {lat[-1]:.1f} ms")
PY
  kill $PID; wait $PID 2>/dev/null || true
done
done
