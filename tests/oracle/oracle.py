"""Independent oracle for the score figures.

Exports every survey's raw responses as CSV through the API, recomputes NPS, CSAT and
CES (value, margin of error, n, "not enough answers") with pandas — a separate
implementation from the Rust code — per touchpoint, survey, language and channel, and
per stage, journey, segment, package element, service package, owning unit and partner
from the model as the API lists it (touchpoint → stage → journey → segment, touchpoint
→ element → packages, touchpoint owner; responses naming no touchpoint by what their
survey is about), plus the weekly trend, and compares them with
GET /api/v1/workspaces/{ws}/scores and /scores/weekly. From the encounter log as the
API lists it, it recounts encounters per touchpoint and stage, feedback coverage and
the distinct customers who reached each stage (docs/metrics.md); a touchpoint or stage
with encounters and no responses is a row of its own. Then deletes some responses
through the API and compares again (the rollups must stay exact).

Usage: python oracle.py BASE_URL TOKEN [WORKSPACE]
"""
import io
import json
import math
import sys
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pandas as pd

Z95 = 1.959963984540054
MIN_SAMPLE = 30
BASE, TOKEN = sys.argv[1], sys.argv[2]
WS = sys.argv[3] if len(sys.argv) > 3 else "demo"
TODAY = date.today()
FROM, TO = (TODAY - timedelta(days=364)).isoformat(), TODAY.isoformat()


def call(method, path):
    req = urllib.request.Request(BASE + path, method=method, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req) as r:
        return r.read()


def responses():
    surveys = json.loads(call("GET", f"/api/v1/workspaces/{WS}/surveys?limit=500"))["items"]
    frames = []
    for s in surveys:
        text = call("GET", f"/api/v1/workspaces/{WS}/surveys/{s['id']}/responses.csv").decode("utf-8-sig")
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        df["survey_id"] = str(s["id"])
        frames.append(df[["response_id", "created_at", "complete", "suspect", "touchpoint_id", "channel", "locale", "nps", "csat", "ces", "survey_id"]])
    df = pd.concat(frames, ignore_index=True)
    for c in ("nps", "csat", "ces"):
        df[c] = pd.to_numeric(df[c].replace("", None))
    df["day"] = df["created_at"].str[:10]
    # Figures count complete responses that no bot check set apart.
    counted = (df["complete"] == "true") & (df["suspect"].fillna("") == "")
    return df[counted & (df["day"] >= FROM) & (df["day"] <= TO)]


def shown(value, margin, n):
    if n == 0:
        return {"status": "no_answers"}
    if n < MIN_SAMPLE:
        return {"status": "not_enough", "n": n}
    return {"status": "score", "value": value, "margin": margin, "n": n}


def expected(df, col):
    out = {}
    for key, g in df.groupby(col):
        if key == "" and col == "touchpoint_id":
            continue
        nps = g["nps"].dropna()
        n = len(nps)
        p = (nps >= 9).sum() / n if n else 0.0
        d = (nps <= 6).sum() / n if n else 0.0
        nps_s = shown(100 * (p - d), 100 * Z95 * math.sqrt(max(p + d - (p - d) ** 2, 0) / n) if n else 0, n)
        cs = g["csat"].dropna()
        q = (cs >= 4).sum() / len(cs) if len(cs) else 0.0
        csat_s = shown(100 * q, 100 * Z95 * math.sqrt(q * (1 - q) / len(cs)) if len(cs) else 0, len(cs))
        ce = g["ces"].dropna()
        sd = ce.std(ddof=1) if len(ce) > 1 else 0.0
        ces_s = shown(ce.mean() if len(ce) else 0, Z95 * sd / math.sqrt(len(ce)) if len(ce) else 0, len(ce))
        out[str(key)] = {"responses": len(g), "nps": nps_s, "csat": csat_s, "ces": ces_s}
    return out


def same(a, b):
    if a.get("status") != b.get("status") or a.get("n") != b.get("n"):
        return False
    if a["status"] != "score":
        return True
    return all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9) for k in ("value", "margin"))


def items(collection):
    return json.loads(call("GET", f"/api/v1/workspaces/{WS}/{collection}?limit=500"))["items"]


def model_keys():
    """scope -> function(touchpoint_id text, survey_id text) -> list of keys."""
    tps = {t["id"]: t for t in items("touchpoints")}
    stages = {s["id"]: s for s in items("stages")}
    journeys = {j["id"]: j for j in items("journeys")}
    surveys = {s["id"]: s for s in items("surveys")}
    packages_of = {}
    for p in items("packages"):
        for e in p["elements"]:
            packages_of.setdefault(e["element_id"], []).append(p["id"])

    def by_touchpoint(t, scope):
        stage = stages[t["stage_id"]]
        j = stage["journey_id"]
        owner = t.get("owner") or {}
        return {
            "stage": [stage["id"]],
            "journey": [j],
            "segment": [journeys[j]["segment_id"]],
            "element": [t["element_id"]] if t.get("element_id") else [],
            "package": packages_of.get(t.get("element_id"), []),
            "unit": [owner["unit"]] if "unit" in owner else [],
            "partner": [owner["partner"]] if "partner" in owner else [],
        }[scope]

    def by_survey(s, scope):
        j = s.get("journey_id")
        if scope == "journey" and j:
            return [j]
        if scope == "segment" and j:
            return [journeys[j]["segment_id"]]
        if scope == "package" and s.get("package_id"):
            return [s["package_id"]]
        return []

    def keys(scope):
        def f(tp, survey):
            if tp:
                t = tps.get(int(tp))
                return [str(k) for k in by_touchpoint(t, scope)] if t else []
            return [str(k) for k in by_survey(surveys[int(survey)], scope)]
        return f

    return {scope: keys(scope) for scope in ("stage", "journey", "segment", "element", "package", "unit", "partner")}


def encounters():
    """Every encounter of the period, through the paged list."""
    out, before = [], None
    while True:
        q = f"/api/v1/workspaces/{WS}/encounters?from={FROM}&to={TO}&limit=1000"
        if before:
            q += "&before=" + urllib.parse.quote(before)
        page = json.loads(call("GET", q))
        out.extend(page["items"])
        before = page["next"]
        if not before:
            return out


def encounter_figures():
    """scope -> key -> (encounters, distinct customers) from the encounter log, per
    touchpoint of the model and per stage through the touchpoint's stage."""
    tps = {t["id"]: t for t in items("touchpoints")}
    figures = {"touchpoint": {}, "stage": {}}
    customers = {}
    for e in encounters():
        t = tps.get(e["touchpoint_id"])
        if t is None:
            continue
        for scope, key in (("touchpoint", t["id"]), ("stage", t["stage_id"])):
            figures[scope][str(key)] = figures[scope].get(str(key), 0) + 1
        if e["customer_id"] is not None:
            customers.setdefault(str(t["stage_id"]), set()).add(e["customer_id"])
    return {scope: {k: (n, len(customers.get(k, ())) if scope == "stage" else None) for k, n in f.items()} for scope, f in figures.items()}


def weekly(df):
    days = pd.to_datetime(df["day"])
    monday = (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.strftime("%Y-%m-%d")
    return expected(df.assign(week=monday), "week")


def compare(df, label):
    checked = 0
    enc = encounter_figures()
    assert enc["touchpoint"], "the demo records encounters"
    grouped = [(scope, df, col) for scope, col in (("touchpoint", "touchpoint_id"), ("survey", "survey_id"), ("language", "locale"), ("channel", "channel"))]
    for scope, f in model_keys().items():
        keyed = df.assign(key=[f(t, s) for t, s in zip(df["touchpoint_id"], df["survey_id"])]).explode("key")
        grouped.append((scope, keyed[keyed["key"].notna()], "key"))
    groups = {}
    for scope, frame, col in grouped:
        api = json.loads(call("GET", f"/api/v1/workspaces/{WS}/scores?by={scope}&from={FROM}&to={TO}"))
        got = {str(r["key"]): r for r in api["rows"]}
        want = expected(frame, col)
        nothing = {"status": "no_answers"}
        for k in enc.get(scope, {}):
            want.setdefault(k, {"responses": 0, "nps": nothing, "csat": nothing, "ces": nothing})
        groups[scope] = len(want)
        assert set(got) == set(want), f"{label} {scope}: keys differ: {sorted(set(got) ^ set(want))}"
        for k, w in want.items():
            g = got[k]
            assert g["responses"] == w["responses"], f"{label} {scope} {k}: responses {g['responses']} != {w['responses']}"
            for m in ("nps", "csat", "ces"):
                assert same(g[m], w[m]), f"{label} {scope} {k} {m}: api {g[m]} != oracle {w[m]}"
                checked += 1
            if scope in enc:
                n, customers = enc[scope].get(k, (0, 0))
                assert g["encounters"] == n, f"{label} {scope} {k}: encounters {g['encounters']} != {n}"
                coverage = None if n == 0 or n < w["responses"] else 100 * w["responses"] / n
                assert (g["feedback_coverage"] is None) == (coverage is None) and (
                    coverage is None or math.isclose(g["feedback_coverage"], coverage, rel_tol=1e-9)
                ), f"{label} {scope} {k}: feedback coverage {g['feedback_coverage']} != {coverage}"
                checked += 2
                if scope == "stage":
                    assert g["customers"] == customers, f"{label} stage {k}: customers {g['customers']} != {customers}"
                    checked += 1
    api = json.loads(call("GET", f"/api/v1/workspaces/{WS}/scores/weekly?from={FROM}&to={TO}"))
    got = {w["week"]: w for w in api}
    want = weekly(df)
    assert set(got) == set(want), f"{label} weekly: weeks differ: {sorted(set(got) ^ set(want))}"
    for k, w in want.items():
        assert got[k]["responses"] == w["responses"], f"{label} week {k}"
        for m in ("nps", "csat", "ces"):
            assert same(got[k][m], w[m]), f"{label} week {k} {m}: api {got[k][m]} != oracle {w[m]}"
            checked += 1
    assert all(n > 0 for n in groups.values()), f"every scope has groups in the demo: {groups}"
    print(f"oracle {label}: {len(df)} complete responses, {checked} figures match (groups: {groups}, {len(want)} weeks)")
    return checked


df = responses()
assert len(df) > 1000, f"expected the demo history, got {len(df)} responses"
compare(df, "before deletions")
# Delete some responses of every survey through the API (recorded in the audit trail).
surveys = json.loads(call("GET", f"/api/v1/workspaces/{WS}/surveys?limit=500"))["items"]
deleted = 0
for s in surveys:
    page = json.loads(call("GET", f"/api/v1/workspaces/{WS}/surveys/{s['id']}/responses?limit=25&complete=true"))
    for r in page["items"][::5]:
        call("DELETE", f"/api/v1/workspaces/{WS}/surveys/{s['id']}/responses/{r['id']}")
        deleted += 1
assert deleted > 0
after = responses()
assert len(after) == len(df) - deleted, (len(after), len(df), deleted)
compare(after, f"after {deleted} deletions")
