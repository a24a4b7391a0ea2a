-- Review cycle of who-is-my-customer relations: who reviewed when (history), in-app
-- notifications to the owning unit, and webhooks per workspace. `{ID}` as in 0001.

CREATE TABLE relation_reviews (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    relation_id BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    reviewed_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    FOREIGN KEY (workspace_id, relation_id) REFERENCES relations(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX relation_reviews_relation ON relation_reviews(relation_id);

-- One notification per relation and due date: the UNIQUE key is what lets several
-- server instances run the review job at once without notifying twice.
CREATE TABLE notifications (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    unit_id BIGINT,
    relation_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    due_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, relation_id, kind, due_on),
    FOREIGN KEY (workspace_id, relation_id) REFERENCES relations(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_unit ON notifications(workspace_id, unit_id);

CREATE TABLE webhooks (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
);
