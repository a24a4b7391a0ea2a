-- Rollups of each journey's actual flow (docs/metrics.md, "Journey mining" → "Kept
-- up to date"; kohtaamo-domain/src/mining_rollup.rs). Days are days since 1970-01-01
-- (UTC); ±1,000,000,000 stands for "no such encounter".

-- Which of an encounter's streams are in the rollups: bit 1 its case's, bit 2 its
-- customer's (3: both, or nothing to add). The index finds what is not yet applied.
ALTER TABLE encounters ADD COLUMN mined INTEGER NOT NULL DEFAULT 0;
CREATE INDEX encounters_unmined ON encounters(workspace_id, id) WHERE mined <> 3;

-- The designed journeys the rollups were built for ('' = stale: rebuild), a
-- generation that changes whenever the rollups do (cached reports compare it), and
-- while a rebuild runs, until when (Unix seconds) it holds the right to (renewed as it
-- goes; an instance that died leaves it to expire). `erasures` counts deletions and
-- anonymisations of the workspace's encounters: a report computed before one is never
-- shown again, not even while its successor is being computed.
CREATE TABLE mining_state (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    design TEXT NOT NULL,
    generation BIGINT NOT NULL,
    build_lease BIGINT,
    erasures BIGINT NOT NULL DEFAULT 0
);

-- `by_kind`: 1 instances by case, 2 by customer (at the default gap). `n`: how many.
CREATE TABLE mining_flow_acts (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    by_kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    act TEXT NOT NULL,
    on_before BIGINT NOT NULL,
    on_after BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (journey_id, by_kind, day, act, on_before, on_after)
);

CREATE TABLE mining_flow_edges (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    by_kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    prev_day BIGINT NOT NULL,
    from_act TEXT NOT NULL,
    to_act TEXT NOT NULL,
    on_before BIGINT NOT NULL,
    on_after BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (journey_id, by_kind, day, prev_day, from_act, to_act, on_before, on_after)
);

CREATE TABLE mining_flow_stages (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    by_kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    stage INTEGER NOT NULL,
    prev_same BIGINT NOT NULL,
    prev_later BIGINT NOT NULL,
    next_later BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (journey_id, by_kind, day, stage, prev_same, prev_later, next_later)
);
