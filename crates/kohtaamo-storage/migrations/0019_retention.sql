-- Retention: a workspace's own periods (absent: the defaults in
-- `kohtaamo_domain::privacy::Retained::default_rule`), how far each response has been
-- redacted, and where the kept part of the audit chain begins.

-- `days` NULL: kept. `action`: delete or anonymise (what the kind allows).
CREATE TABLE retention_settings (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    days BIGINT,
    action TEXT NOT NULL CHECK (action IN ('delete', 'anonymise')),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind)
);

-- 0 as given; 1 its free text removed; 2 anonymised (identifiers and free text
-- removed; scores, times and places kept). A constant default: no table rewrite.
ALTER TABLE responses ADD COLUMN redacted BIGINT NOT NULL DEFAULT 0;

-- Retention removes the oldest audit entries: the last one removed and its hash are
-- where verification of the rest begins.
ALTER TABLE audit_heads ADD COLUMN pruned_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_heads ADD COLUMN pruned_hash TEXT NOT NULL DEFAULT '';
