-- The privacy officer's workspace role (SQLite; the PostgreSQL twin does the same):
-- finds, exports and erases a person's data. The CHECK is widened as in 0014.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (role IN (''admin'', ''editor'', ''viewer''))',
                          'CHECK (role IN (''admin'', ''editor'', ''viewer'', ''privacy''))')
 WHERE type = 'table' AND name = 'memberships';
PRAGMA schema_version = {NEXT_SCHEMA_VERSION};
PRAGMA writable_schema = OFF;
