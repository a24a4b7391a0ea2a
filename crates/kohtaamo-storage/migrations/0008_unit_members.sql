-- Users who work in a unit (one or more units each). A unit member may review the
-- unit's who-is-my-customer answers without being an editor of the whole model, and
-- lands on the unit's page. Removing a workspace member removes these rows too
-- (Store::remove_member); deleting the unit or the user cascades.
CREATE TABLE unit_members (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (unit_id, user_id),
    FOREIGN KEY (workspace_id, unit_id) REFERENCES units(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX unit_members_user ON unit_members(workspace_id, user_id);
