-- Privacy: a tamper-evident audit trail and the deletion ledger. `{ID}` as in 0001.

-- Each audit entry carries the hash of the one before it in its workspace (a chain
-- numbered by `seq` from 1): SHA-256 over the previous hash and the entry's fields
-- (`kohtaamo_domain::privacy::chain_hash`). `actor` is who acted as text (`user:7`,
-- `token:name`, `system`), kept beside `user_id` because deleting an account sets
-- `user_id` to NULL, which would otherwise change a hashed field. Entries written
-- before this migration are chained, in id order, by the first append after it.
ALTER TABLE audit_log ADD COLUMN actor TEXT;
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log(workspace_id, seq);

-- The head of each workspace's chain. An append updates this row first, so appends
-- of one workspace queue behind each other's row lock (PostgreSQL) or the write gate
-- (SQLite) and the chain never forks.
CREATE TABLE audit_heads (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

-- One row per erasure of a person: `subject_keys` is a JSON array of keyed hashes
-- (HMAC, installation secret `deletion-ledger`) of every form of every identifier and
-- case reference the erasure matched; never the values themselves. `restore`
-- re-applies every row to a restored backup, so an erased person does not come back.
-- `counts` is a JSON object of how many rows of each kind went (numbers only).
CREATE TABLE deletion_ledger (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    subject_keys TEXT NOT NULL,
    counts TEXT NOT NULL,
    erased_by TEXT NOT NULL,
    erased_at TEXT NOT NULL
);
CREATE INDEX deletion_ledger_ws ON deletion_ledger(workspace_id, id);
