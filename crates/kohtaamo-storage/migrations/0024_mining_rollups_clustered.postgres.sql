-- The flow rollups stored in their key's order: on SQLite the tables become WITHOUT
-- ROWID (see the SQLite twin). PostgreSQL has no such table; its tables stay as they
-- are, and this step only records the version.
SELECT 1;
