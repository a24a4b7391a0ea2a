-- Alert rules on experience scores and the alerts they raised. `{ID}` as in 0001.

CREATE TABLE alert_rules (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    group_key TEXT NOT NULL,
    metric TEXT NOT NULL CHECK (metric IN ('nps', 'csat', 'ces')),
    cond TEXT NOT NULL CHECK (cond IN ('below', 'drop')),
    threshold DOUBLE PRECISION,
    period_days BIGINT NOT NULL,
    unit_id BIGINT,
    UNIQUE (workspace_id, id),
    -- No cascade: a unit that alerts go to cannot be deleted by accident (409).
    FOREIGN KEY (workspace_id, unit_id) REFERENCES units(workspace_id, id)
);

-- One alert per rule and evaluated period: the UNIQUE key lets several server
-- instances evaluate rules at once without alerting twice (ON CONFLICT DO NOTHING).
CREATE TABLE alerts (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    rule_id BIGINT NOT NULL,
    unit_id BIGINT,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    margin DOUBLE PRECISION NOT NULL,
    n BIGINT NOT NULL,
    previous DOUBLE PRECISION,
    created_at TEXT NOT NULL,
    UNIQUE (rule_id, period_to),
    FOREIGN KEY (workspace_id, rule_id) REFERENCES alert_rules(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX alerts_ws_unit ON alerts(workspace_id, unit_id);
