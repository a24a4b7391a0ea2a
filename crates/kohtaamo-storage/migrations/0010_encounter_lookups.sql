-- A customer's identifiers found by the customer within their workspace (with the
-- index on `customer_id` alone, SQLite's planner preferred the primary key
-- (workspace_id, ident) and read every identifier of the workspace; the query must
-- also not ask for an order, see `Store::customer_identifiers`).
DROP INDEX customer_identifiers_customer;
CREATE INDEX customer_identifiers_customer ON customer_identifiers(workspace_id, customer_id);

-- Events a webhook takes beyond the default ones (review reminders, score alerts):
-- `encounters` opts in to one event per batch of encounters recorded.
ALTER TABLE webhooks ADD COLUMN events TEXT NOT NULL DEFAULT '';

-- Encounters per touchpoint and day (UTC), kept exact in the transaction that records
-- them, so the dashboards' encounter counts and feedback coverage read a few rows per
-- touchpoint and day, not the encounters themselves.
CREATE TABLE encounter_rollups (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    touchpoint_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    encounters BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, touchpoint_id, day)
);
INSERT INTO encounter_rollups (workspace_id, touchpoint_id, day, encounters)
    SELECT workspace_id, touchpoint_id, substr(occurred_at, 1, 10), COUNT(*)
    FROM encounters WHERE touchpoint_id IS NOT NULL
    GROUP BY workspace_id, touchpoint_id, substr(occurred_at, 1, 10);

