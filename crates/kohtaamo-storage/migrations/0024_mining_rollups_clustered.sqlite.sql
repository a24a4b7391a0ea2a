-- The flow rollups stored in their key's order (SQLite; on PostgreSQL nothing changes).
-- A period's graph is one range scan over the key (journey, kind, day, …) that sums
-- `n`. In an ordinary (rowid) table the key is a separate index, so each summed row
-- cost a look-up from the index into the table; WITHOUT ROWID keeps the rows in the
-- key's B-tree itself: the scan reads them in order, and the tables take half the
-- space (docs/BENCHMARKS.md, "seventeenth session"). The rows are copied unchanged.

CREATE TABLE mining_flow_acts_k (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    by_kind INTEGER NOT NULL,
    day BIGINT NOT NULL,
    act TEXT NOT NULL,
    on_before BIGINT NOT NULL,
    on_after BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (journey_id, by_kind, day, act, on_before, on_after)
) WITHOUT ROWID;
INSERT INTO mining_flow_acts_k SELECT workspace_id, journey_id, by_kind, day, act, on_before, on_after, n FROM mining_flow_acts;
DROP TABLE mining_flow_acts;
ALTER TABLE mining_flow_acts_k RENAME TO mining_flow_acts;

CREATE TABLE mining_flow_edges_k (
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
) WITHOUT ROWID;
INSERT INTO mining_flow_edges_k SELECT workspace_id, journey_id, by_kind, day, prev_day, from_act, to_act, on_before, on_after, n FROM mining_flow_edges;
DROP TABLE mining_flow_edges;
ALTER TABLE mining_flow_edges_k RENAME TO mining_flow_edges;

CREATE TABLE mining_flow_stages_k (
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
) WITHOUT ROWID;
INSERT INTO mining_flow_stages_k SELECT workspace_id, journey_id, by_kind, day, stage, prev_same, prev_later, next_later, n FROM mining_flow_stages;
DROP TABLE mining_flow_stages;
ALTER TABLE mining_flow_stages_k RENAME TO mining_flow_stages;
