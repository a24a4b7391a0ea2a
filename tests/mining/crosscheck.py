"""Cross-check of journey mining against pm4py (an independent implementation).

Generates a log on tests/mining/model.yaml's `trip` journey — cases that walk the
designed journey with random skips, stops, rework, returns to an earlier stage,
required touchpoints left out or met out of order, channel switches, other owners, a
touchpoint of another journey and encounters at no touchpoint — and records it through
the API. Then reads Kohtaamo's mining report, its event log (CSV) and its Petri net
(PNML), runs pm4py on that log and net — discover_dfg, get_variants,
discover_performance_dfg, fitness_token_based_replay — and checks that both give the
same edges and counts, start and end activities, variants and counts, median times
between touchpoints and log fitness (docs/metrics.md, "Journey mining"). The XES
export read by pm4py gives the same edges; the OCEL 2.0 JSON export is valid against
the published schema (tests/mining/ocel20-schema-json.json, from
https://www.ocel-standard.org/2.0/ocel20-schema-json.json) and pm4py reads it.

Usage: python crosscheck.py BASE_URL TOKEN [CASES]
"""
import io
import json
import math
import random
import sys
import tempfile
import urllib.request
from datetime import datetime, timedelta, timezone

import pandas as pd
import pm4py

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gen import generate  # noqa: E402

BASE, TOKEN = sys.argv[1], sys.argv[2]
CASES = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
WS = "mining"
FROM, TO = "2026-01-01", "2026-03-31"


def call(method, path, body=None, ctype="application/json"):
    data = None if body is None else body.encode()
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read()


def units():
    out = {}
    for kind in ("units", "partners"):
        for u in json.loads(call("GET", f"/api/v1/workspaces/{WS}/{kind}?limit=100"))["items"]:
            out[u["data"]["slug"] if "data" in u else u["slug"]] = (kind[:-1], u["id"])
    return out


def check(name, ours, theirs):
    if ours != theirs:
        only_ours = {k: v for k, v in ours.items() if theirs.get(k) != v} if isinstance(ours, dict) else ours
        only_theirs = {k: v for k, v in theirs.items() if ours.get(k) != v} if isinstance(theirs, dict) else theirs
        print(f"MISMATCH {name}:\n  kohtaamo: {list(only_ours.items())[:10] if isinstance(only_ours, dict) else only_ours}\n  pm4py:    {list(only_theirs.items())[:10] if isinstance(only_theirs, dict) else only_theirs}")
        sys.exit(1)
    print(f"{name}: same ({len(ours) if hasattr(ours, '__len__') else ours})")


def close(name, ours, theirs, tol=1e-9):
    if not math.isclose(ours, theirs, rel_tol=tol, abs_tol=tol):
        print(f"MISMATCH {name}: kohtaamo {ours!r}, pm4py {theirs!r}")
        sys.exit(1)
    print(f"{name}: same ({ours:.12f})")


def main():
    owners = units()
    n = generate(call, WS, owners, CASES)
    print(f"recorded {n} encounters in {CASES} cases")
    journeys = json.loads(call("GET", f"/api/v1/workspaces/{WS}/journeys"))["items"]
    trip = next(j["id"] for j in journeys if (j.get("data") or j)["slug"] == "trip")
    q = f"from={FROM}&to={TO}&by=case&variants=1000"
    report = json.loads(call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining?{q}"))
    log = pd.read_csv(io.BytesIO(call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining/events.csv?{q}")),
                      dtype=str, keep_default_na=False)
    pnml = call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/journey.pnml").decode()
    with tempfile.NamedTemporaryFile("w", suffix=".pnml", delete=False) as f:
        f.write(pnml)
        pnml_path = f.name
    log["timestamp"] = pd.to_datetime(log["timestamp"], utc=True)
    df = pm4py.format_dataframe(log, case_id="case_id", activity_key="activity", timestamp_key="timestamp")

    assert report["instances"] == CASES == log["case_id"].nunique(), (report["instances"], log["case_id"].nunique())
    check("encounters", report["encounters"], len(log))

    dfg, starts, ends = pm4py.discover_dfg(df)
    ours = {(e["from"]["label"], e["to"]["label"]): e["count"] for e in report["edges"]}
    check("directly-follows edges and counts", ours, {k: int(v) for k, v in dfg.items()})
    check("start activities", {s["activity"]["label"]: s["count"] for s in report["starts"]}, {k: int(v) for k, v in starts.items()})
    check("end activities", {s["activity"]["label"]: s["count"] for s in report["ends"]}, {k: int(v) for k, v in ends.items()})

    variants = pm4py.get_variants(df)
    theirs = {tuple(k): int(v if isinstance(v, int) else len(v)) for k, v in variants.items()}
    check("number of variants", report["variants_total"], len(theirs))
    ours = {tuple(v["path"]): v["instances"] for v in report["variants"]}
    check("variant counts (the listed ones)", ours, {k: theirs.get(k) for k in ours})

    perf, _, _ = pm4py.discover_performance_dfg(df)
    ours = {(e["from"]["label"], e["to"]["label"]): e["median_seconds"] for e in report["edges"]}
    theirs = {k: float(v["median"]) for k, v in perf.items()}
    check("median time per edge (s)", ours, theirs)

    net, im, fm = pm4py.read_pnml(pnml_path)
    fit = pm4py.fitness_token_based_replay(df, net, im, fm)
    close("log fitness (token replay)", report["fitness"]["log_fitness"], fit["log_fitness"])
    close("average trace fitness", report["fitness"]["average_fitness"], fit["average_trace_fitness"])
    close("fitting instances (%)", 100.0 * report["fitness"]["fitting_instances"] / report["instances"],
          fit["percentage_of_fitting_traces"])
    # The same log as XES (read by pm4py's reader) and as OCEL 2.0 JSON (valid against
    # the published schema, read by pm4py's OCEL 2.0 reader).
    with tempfile.NamedTemporaryFile("wb", suffix=".xes", delete=False) as f:
        f.write(call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining/events.xes?{q}"))
        xes_path = f.name
    xdf = pm4py.read_xes(xes_path)
    xdfg, _, _ = pm4py.discover_dfg(xdf)
    check("directly-follows edges from the XES export", {(e["from"]["label"], e["to"]["label"]): e["count"] for e in report["edges"]},
          {k: int(v) for k, v in xdfg.items()})
    ocel_bytes = call("GET", f"/api/v1/workspaces/{WS}/journeys/{trip}/mining/events.jsonocel?{q}")
    import jsonschema
    schema = json.load(open(__file__.rsplit("/", 1)[0] + "/ocel20-schema-json.json"))
    errors = list(jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(json.loads(ocel_bytes)))
    if errors:
        print(f"MISMATCH OCEL 2.0 schema: {errors[0].message} at {list(errors[0].path)}")
        sys.exit(1)
    print("OCEL 2.0 JSON export: valid against the OCEL 2.0 JSON schema")
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonocel", delete=False) as f:
        f.write(ocel_bytes)
        ocel_path = f.name
    ocel = pm4py.read_ocel2_json(ocel_path)
    check("OCEL 2.0 events read by pm4py", len(ocel.events), report["encounters"])
    print("journey mining matches pm4py")


if __name__ == "__main__":
    main()
