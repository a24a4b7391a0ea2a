"""Generated journey logs on tests/mining/model.yaml's `trip` journey, recorded through
the API: used by the pm4py cross-check (crosscheck.py) and the mining benchmark
(scripts/bench-mining). Each case walks the designed journey with random skips, stops,
rework, returns to an earlier stage, required touchpoints left out or met out of order,
channel switches, other owners, a touchpoint of another journey and encounters at no
touchpoint; with `variety="low"` the deviations are ten times rarer."""
import json
import random
from datetime import datetime, timedelta, timezone

# The designed journey (as in model.yaml): per stage, alternatives, required, optional.
STAGES = [
    (["search-web", "search-app"], [], ["newsletter"]),
    (["buy-web", "buy-office"], ["payment"], []),
    (["board"], [], ["cafe"]),
    ([], [], ["refund"]),
]
CHANNELS = ["web", "mobile_app", "phone", "email", "chat", "in_person"]


def walk(rng, p=1.0):
    """One case's touchpoints (None for an encounter at no touchpoint); `p` scales how
    often it deviates."""
    path = []
    for s, (alts, req, opt) in enumerate(STAGES):
        if rng.random() < 0.08 * p and path:
            break  # gives up (drop-off)
        if rng.random() < 0.07 * p:
            continue  # skips the stage
        here = []
        if alts:
            here.append(rng.choice(alts))
            if rng.random() < 0.04 * p:
                here.append(rng.choice(alts))  # a second alternative
        for r in req:
            if rng.random() < 1 - 0.15 * p:
                here.insert(rng.randrange(len(here) + 1), r)
        for o in opt:
            while rng.random() < 0.3:
                here.insert(rng.randrange(len(here) + 1), o)
        if rng.random() < 0.05 * p and here:
            here.append(here[rng.randrange(len(here))])  # rework
        if rng.random() < 0.04 * p and s > 0:
            here.append(rng.choice(STAGES[s - 1][0] + STAGES[s - 1][1]))  # back
        if rng.random() < 0.05 * p:
            here.insert(rng.randrange(len(here) + 1), "park-app")  # another journey
        if rng.random() < 0.05 * p:
            here.insert(rng.randrange(len(here) + 1), None)  # no touchpoint
        path.extend(here)
    if not path:
        path = [rng.choice(STAGES[0][0])]
    return path


def generate(call, ws, owners, cases, variety="high", seed=20261128, batch=1000,
             customers=997, prefix="gen"):
    """Records `cases` cases (dated from 2026-01-01 over 75 days) in batches of
    `batch`; returns the number of encounters."""
    rng = random.Random(seed)
    p = 1.0 if variety == "high" else 0.1
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows, n = [], 0

    def flush():
        if rows:
            call("POST", f"/api/v1/workspaces/{ws}/encounters",
                 "\n".join(json.dumps(r) for r in rows), "application/x-ndjson")
            rows.clear()

    for c in range(cases):
        t = start + timedelta(minutes=rng.randrange(60 * 24 * 75))
        for k, tp in enumerate(walk(rng, p)):
            t += timedelta(minutes=rng.randrange(1, 600))
            e = {"id": f"{prefix}-{c}-{k}", "at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "case_ref": f"{prefix}-{c}", "customer": f"crm:{c % customers}", "kind": "contact"}
            if tp is None:
                e["channel"] = "phone"
                e["owner"] = {"unit": owners["service"][1]}
            else:
                e["touchpoint"] = tp
                if rng.random() < 0.08 * p:
                    e["channel"] = rng.choice(CHANNELS)
                if rng.random() < 0.04 * p:
                    e["owner"] = {"unit": owners[rng.choice(["sales", "service", "it"])][1]}
            rows.append(e)
            n += 1
            if len(rows) >= batch:
                flush()
    flush()
    return n
