"""The journey-mining benchmark (run by scripts/bench-mining): Kohtaamo against pm4py
on the same events. Prints the figures for docs/BENCHMARKS.md and exits non-zero when
the two disagree on edge counts, variant counts or log fitness.

Usage: python bench.py BASE_URL TOKEN CASES VARIETY DATA_DIR KOHTAAMO_BIN
"""
import io
import json
import math
import re
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date

sys.path.insert(0, os.path.dirname(__file__))
from gen import generate  # noqa: E402

import pandas as pd  # noqa: E402
import pm4py  # noqa: E402

BASE, TOKEN, CASES, VARIETY, DATA, BIN = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
WS = "mining"
FROM, TO = "2026-01-01", "2026-03-31"
RUNS = int(os.environ.get("MINING_RUNS", "5"))


def call(method, path, body=None, ctype="application/json"):
    data = None if body is None else body.encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=1800) as r:
        return r.read()


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def main():
    owners = {}
    for kind in ("units", "partners"):
        for u in json.loads(call("GET", f"/api/v1/workspaces/{WS}/{kind}?limit=100"))["items"]:
            owners[u["slug"]] = (kind[:-1], u["id"])
    n, secs = timed(lambda: generate(call, WS, owners, CASES, VARIETY, batch=5000,
                                     customers=max(997, CASES // 2), prefix="b"))
    print(f"recorded {n:,} encounters in {CASES:,} cases ({VARIETY} variety) through the API in {secs:.0f} s ({n / secs:,.0f}/s)")
    trip = next(j["id"] for j in json.loads(call("GET", f"/api/v1/workspaces/{WS}/journeys"))["items"] if j["slug"] == "trip")
    q = f"from={FROM}&to={TO}&by=case&variants=1000"

    # The flow rollups: the job (every 5 s here) ran while the log was recorded; wait
    # until it has applied every encounter (read from the database file), then read the
    # 90-day flow FLOW_READS times.
    db = sqlite3.connect(f"file:{os.path.join(DATA, 'kohtaamo.db')}?mode=ro", uri=True, timeout=60)
    pending = lambda: db.execute("SELECT COUNT(*) FROM encounters WHERE mined <> 3").fetchone()[0]
    left, t0 = pending(), time.perf_counter()
    while pending() > 0:
        time.sleep(0.5)
    catch_up = time.perf_counter() - t0
    print(f"flow rollups: {left:,} encounters waiting when recording ended, applied {catch_up:.1f} s later")
    fq = f"from={FROM}&to={TO}&by=case"
    lat, flow = [], None
    for _ in range(int(os.environ.get("FLOW_READS", "100"))):
        body, s_ = timed(lambda: call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/flow?{fq}"))
        flow = json.loads(body)
        lat.append(s_ * 1000)
    lat.sort()
    p95 = lat[min(len(lat) - 1, math.ceil(0.95 * len(lat)) - 1)]
    print(f"90-day flow from the rollups ({flow['source']}, {flow['instances']:,} instances, {len(flow['edges'])} edges), "
          f"{len(lat)} requests over HTTP: median {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms")
    # What those reads scan: the rollup rows of the 90 days, by case.
    d0, d1 = ((date.fromisoformat(d) - date(1970, 1, 1)).days for d in (FROM, TO))
    scanned = [db.execute(f"SELECT COUNT(*) FROM mining_flow_{t} WHERE journey_id = ? AND by_kind = 1 AND day BETWEEN ? AND ?",
                          (trip, d0, d1)).fetchone()[0] for t in ("acts", "edges", "stages")]
    print(f"rollup rows of the 90 days by case: {scanned[0]:,} activity, {scanned[1]:,} edge, {scanned[2]:,} stage")

    # Kohtaamo: the whole report, RUNS times; its own split into reading and mining.
    # Each run asks for one variant fewer, so that none is served from the kept reports
    # (a kept report is timed apart, below); the figures compared are the first run's.
    walls, reads, mines = [], [], []
    report = None
    for k in range(RUNS):
        qk = q.replace("variants=1000", f"variants={1000 - k}")
        body, wall = timed(lambda: call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining?{qk}"))
        r_k = json.loads(body)
        assert not r_k["cached"], "a run was served kept"
        report = report or r_k
        walls.append(wall)
        reads.append(r_k["timings"]["read_ms"] / 1000)
        mines.append(r_k["timings"]["mine_ms"] / 1000)
    k_read, k_mine, k_wall = statistics.median(reads), statistics.median(mines), statistics.median(walls)
    _, kept_s = timed(lambda: call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining?{q}"))
    print(f"the same report asked again (kept): {kept_s * 1000:.1f} ms")
    print(f"Kohtaamo: {report['instances']:,} instances, {report['encounters']:,} encounters, {report['variants_total']:,} variants, "
          f"log fitness {report['fitness']['log_fitness']:.6f}")
    print(f"Kohtaamo (median of {RUNS}): read {k_read:.2f} s, mine {k_mine:.2f} s, whole request {k_wall:.2f} s")

    csv_bytes, csv_secs = timed(lambda: call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining/events.csv?{q}"))
    print(f"event log export (CSV, {len(csv_bytes) / 1e6:,.0f} MB): {csv_secs:.1f} s")
    pnml = call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/journey.pnml").decode()
    tmp = tempfile.mkdtemp(dir=DATA)
    csv_path, pq_path, pnml_path = (os.path.join(tmp, f) for f in ("log.csv", "log.parquet", "net.pnml"))
    open(csv_path, "wb").write(csv_bytes)
    open(pnml_path, "w").write(pnml)
    del csv_bytes

    def load_csv():
        df = pd.read_csv(csv_path, usecols=["case_id", "activity", "timestamp"], dtype=str)
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
        return pm4py.format_dataframe(df, case_id="case_id", activity_key="activity", timestamp_key="timestamp")

    df, load_csv_s = timed(load_csv)
    df[["case:concept:name", "concept:name", "time:timestamp"]].to_parquet(pq_path)
    _, load_pq_s = timed(lambda: pd.read_parquet(pq_path))
    (dfg, _, _), dfg_s = timed(lambda: pm4py.discover_dfg(df))
    variants, var_s = timed(lambda: pm4py.get_variants(df))
    _, perf_s = timed(lambda: pm4py.discover_performance_dfg(df))
    net, im, fm = pm4py.read_pnml(pnml_path)
    fit, fit_s = timed(lambda: pm4py.fitness_token_based_replay(df, net, im, fm))
    p_compute = dfg_s + var_s + perf_s + fit_s
    print(f"pm4py: load CSV {load_csv_s:.1f} s (Parquet {load_pq_s:.1f} s), discover_dfg {dfg_s:.1f} s, get_variants {var_s:.1f} s, "
          f"discover_performance_dfg {perf_s:.1f} s, token replay {fit_s:.1f} s; compute {p_compute:.1f} s")

    ours = {(e["from"]["label"], e["to"]["label"]): e["count"] for e in report["edges"]}
    flow_edges = {(e["from"]["label"], e["to"]["label"]): e["count"] for e in flow["edges"]}
    same_flow = flow["source"] == "rollups" and flow_edges == ours and flow["instances"] == report["instances"] and \
        [(f["reached"], f["stopped"]) for f in flow["funnel"]] == [(f["reached"], f["stopped"]) for f in report["funnel"]]
    print(f"flow from the rollups = the mining report (edges, instances, funnel): {same_flow}")
    theirs = {k: int(v) for k, v in dfg.items()}
    same_edges = ours == theirs
    theirs_v = {tuple(k): int(v if isinstance(v, int) else len(v)) for k, v in variants.items()}
    same_variants = report["variants_total"] == len(theirs_v) and all(
        theirs_v.get(tuple(v["path"])) == v["instances"] for v in report["variants"])
    same_fitness = math.isclose(report["fitness"]["log_fitness"], fit["log_fitness"], rel_tol=1e-9, abs_tol=1e-12)
    print(f"same edge counts: {same_edges}; same variants ({len(theirs_v):,}): {same_variants}; "
          f"same log fitness ({fit['log_fitness']:.9f}): {same_fitness}")
    print(f"speed-up, computing (Kohtaamo mine vs pm4py compute): {p_compute / k_mine:.1f}x; "
          f"including load (Kohtaamo whole request vs pm4py CSV load + compute): {(p_compute + load_csv_s) / k_wall:.1f}x")

    # XES: the first week's instances (to MINING_XES_TO), read by pm4py's reader and
    # imported by Kohtaamo, MINING_XES_RUNS times each (the later imports find every
    # event already stored); the medians are printed.
    xes_to = os.environ.get('MINING_XES_TO', '2026-01-07')
    xq = f"from=2026-01-01&to={xes_to}&by=case"
    xes_path = os.path.join(tmp, "week.xes")
    open(xes_path, "wb").write(call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining/events.xes?{xq}"))
    xes_runs = int(os.environ.get("MINING_XES_RUNS", "1"))
    pm_xes = [timed(lambda: pm4py.read_xes(xes_path)) for _ in range(xes_runs)]
    xlog, pm_xes_s = pm_xes[0][0], statistics.median(s for _, s in pm_xes)
    model2 = os.path.join(tmp, "model2.yaml")
    text = open(os.path.join(os.path.dirname(__file__), "model.yaml")).read().replace("slug: mining\n", "slug: mining2\n", 1)
    open(model2, "w").write(text)
    env = dict(os.environ, KOHTAAMO_LOG="warn")
    subprocess.run([BIN, "--data-dir", DATA, "import", model2], check=True, env=env, capture_output=True)
    imports = [timed(lambda: subprocess.run([BIN, "--data-dir", DATA, "import", "encounters", xes_path, "--workspace", "mining2"],
                                            check=True, env=env, capture_output=True, text=True)) for _ in range(xes_runs)]
    r, k_xes_s = imports[0]
    reads = [re.search(r"events read in ([0-9.]+) s", run.stdout) for run, _ in imports]
    k_read_s = statistics.median(float(m.group(1)) if m else float("nan") for m in reads)
    print(f"XES of 2026-01-01…{xes_to} ({os.path.getsize(xes_path) / 1e6:,.0f} MB, {len(xlog):,} events; median of {xes_runs}): "
          f"pm4py read_xes {pm_xes_s:.2f} s (runs: {', '.join(f'{s:.2f}' for _, s in pm_xes)}); "
          f"Kohtaamo reading (the process_mining crate's streaming reader, to a temporary CSV) {k_read_s:.2f} s "
          f"(runs: {', '.join(m.group(1) if m else '?' for m in reads)}), "
          f"whole import (read, check every row, store) {k_xes_s:.1f} s — {' / '.join(r.stdout.strip().splitlines())}; "
          f"again, all already stored: {', '.join(f'{s:.1f} s' for _, s in imports[1:]) or '-'}")
    if not (same_edges and same_variants and same_fitness and same_flow):
        sys.exit(1)


main()
