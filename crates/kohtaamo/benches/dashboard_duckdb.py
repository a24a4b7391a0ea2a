"""DuckDB comparison for the dashboard benchmark (run by scripts/bench-dashboard).

Usage: python dashboard_duckdb.py DATA_DIR RESULT_JSON [ROUNDS]

Loads the raw responses of the demo workspace from DATA_DIR/kohtaamo.db into a DuckDB
database file (once; the load is timed but not compared), then times DuckDB computing
the numbers of the default dashboard load from the raw responses -- the touchpoint
table for the period and the previous one, and the weekly trend -- exactly as
Kohtaamo's benchmark requested them (RESULT_JSON, written by benches/dashboard.rs).
Checks that DuckDB's numbers equal Kohtaamo's (responses per touchpoint and week, NPS
per touchpoint), then prints p50/p95 and the ratio to Kohtaamo's p95.
"""

import json
import os
import sqlite3
import statistics
import sys
import time

import duckdb
import pandas as pd


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, round((len(v) - 1) * p))]


def load(data_dir):
    path = os.path.join(data_dir, "responses.duckdb")
    con = duckdb.connect(path)
    have = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'responses'"
    ).fetchone()[0]
    if have:
        return con
    t = time.time()
    src = sqlite3.connect(f"file:{data_dir}/kohtaamo.db?mode=ro", uri=True)
    ws = src.execute("SELECT id FROM workspaces WHERE slug = 'demo'").fetchone()[0]
    con.execute(
        "CREATE TABLE responses (survey_id BIGINT, touchpoint_id BIGINT, channel VARCHAR, "
        "locale VARCHAR, nps BIGINT, csat BIGINT, ces BIGINT, complete BIGINT, day DATE)"
    )
    query = (
        "SELECT survey_id, COALESCE(touchpoint_id, 0) AS touchpoint_id, COALESCE(channel, '') AS channel, "
        "COALESCE(locale, '') AS locale, nps, csat, ces, complete, day FROM responses WHERE workspace_id = ?"
    )
    for chunk in pd.read_sql_query(
        query, src, params=(ws,), chunksize=1_000_000, dtype_backend="numpy_nullable"
    ):
        con.register("chunk", chunk)
        con.execute(
            "INSERT INTO responses SELECT survey_id, touchpoint_id, channel, locale, nps, csat, ces, "
            "complete, CAST(day AS DATE) FROM chunk"
        )
        con.unregister("chunk")
    n = con.execute("SELECT count(*) FROM responses").fetchone()[0]
    print(f"loaded {n} responses into DuckDB in {time.time() - t:.1f} s (not compared)")
    return con


SUMS = (
    "count(*) AS responses, count(nps) AS nps_n, count(*) FILTER (WHERE nps >= 9) AS promoters, "
    "count(*) FILTER (WHERE nps <= 6) AS detractors, count(csat) AS csat_n, "
    "count(*) FILTER (WHERE csat >= 4) AS csat_pos, count(ces) AS ces_n, sum(ces) AS ces_sum"
)
TABLE = (
    f"SELECT touchpoint_id, {SUMS} FROM responses WHERE complete = 1 AND touchpoint_id <> 0 "
    "AND day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY touchpoint_id"
)
WEEKLY = (
    f"SELECT CAST(date_trunc('week', day) AS DATE) AS week, {SUMS} FROM responses WHERE complete = 1 "
    "AND day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) GROUP BY week ORDER BY week"
)


def dashboard_load(con, t):
    now = con.execute(TABLE, [t["from"], t["to"]]).fetchall()
    before = con.execute(TABLE, [t["previous_from"], t["previous_to"]]).fetchall()
    weeks = con.execute(WEEKLY, [t["from"], t["to"]]).fetchall()
    return now, before, weeks


def nps(row):
    n = row[2]
    return 100.0 * (row[3] - row[4]) / n if n else None


def main():
    data_dir, result_path = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    ours = json.load(open(result_path))
    table = ours["touchpoint_table"]
    con = load(data_dir)
    # Same numbers?
    now, before, weeks = dashboard_load(con, table)
    by_tp = {r[0]: r for r in now}
    checked = 0
    for row in table["rows"]:
        d = by_tp.get(row["key"])
        assert d is not None, f"touchpoint {row['key']} missing in DuckDB"
        assert d[1] == row["responses"], (row, d)
        if row["nps"]["status"] == "score":
            assert abs(nps(d) - row["nps"]["value"]) < 1e-9, (row, d)
        checked += 1
    assert checked == len(by_tp), "DuckDB found touchpoints the table does not have"
    ours_weeks = {w["week"]: w["responses"] for w in ours["weekly"]}
    for w in weeks:
        assert ours_weeks.get(str(w[0])) == w[1], (w, ours_weeks.get(str(w[0])))
    assert len(weeks) == len(ours_weeks)
    print(f"same numbers: {checked} touchpoints, {len(weeks)} weeks")
    # Timing: warm, then `rounds` dashboard loads.
    dashboard_load(con, table)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        dashboard_load(con, table)
        times.append((time.perf_counter() - t) * 1000)
    p50, p95 = statistics.median(times), pct(times, 0.95)
    ours95 = ours["load_p95_ms"]
    print(
        f"DuckDB {duckdb.__version__} dashboard load over {ours['responses']} responses: "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms; Kohtaamo p50 {ours['load_p50_ms']:.2f} ms, "
        f"p95 {ours95:.2f} ms -> Kohtaamo {p95 / ours95:.1f}x faster at p95, "
        f"{p50 / ours['load_p50_ms']:.1f}x at p50"
    )
    json.dump(
        {"duckdb_p50_ms": p50, "duckdb_p95_ms": p95, "ratio_p95": p95 / ours95},
        open(result_path.replace(".json", "-duckdb.json"), "w"),
    )


if __name__ == "__main__":
    main()
