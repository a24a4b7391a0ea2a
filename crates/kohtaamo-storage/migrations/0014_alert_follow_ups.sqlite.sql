-- Follow-ups opened by score alerts (SQLite; the PostgreSQL twin does the same). A
-- follow-up rule may trigger on an alert (`trigger_kind = 'alert'`); the follow-up it
-- opens has `source = 'alert'` and names the alert (`alert_id`).
--
-- SQLite cannot alter a CHECK constraint. Widening one (every stored row still
-- satisfies it; nothing on disk changes) is the case SQLite's ALTER TABLE
-- documentation allows the short procedure for: edit the table's SQL in
-- sqlite_schema and increment the schema version, in one transaction. Rebuilding
-- the table instead would cascade-delete its events and escalations.
-- `{NEXT_SCHEMA_VERSION}` is filled in by the migration runner; it checks that both
-- tables' SQL changed and that the integrity check passes afterwards.

ALTER TABLE follow_ups ADD COLUMN alert_id BIGINT;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (source IN (''response'', ''capture''))',
                          'CHECK (source IN (''response'', ''capture'', ''alert''))')
 WHERE type = 'table' AND name = 'follow_ups';
UPDATE sqlite_schema
   SET sql = replace(sql, '''option'', ''words'', ''capture''))',
                          '''option'', ''words'', ''capture'', ''alert''))')
 WHERE type = 'table' AND name = 'follow_up_rules';
PRAGMA schema_version = {NEXT_SCHEMA_VERSION};
PRAGMA writable_schema = OFF;
