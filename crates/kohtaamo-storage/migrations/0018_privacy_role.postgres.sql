-- The privacy officer's workspace role (PostgreSQL; the SQLite twin does the same):
-- finds, exports and erases a person's data. The constraint name is PostgreSQL's
-- default for a column CHECK.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check
    CHECK (role IN ('admin', 'editor', 'viewer', 'privacy'));
