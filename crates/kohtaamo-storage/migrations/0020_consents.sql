-- Consents as the person gave them: what for (`purpose`: `contact-about-feedback`
-- from a survey's contact question, `case-updates` from a status page or the API),
-- the text they saw and its version (the first 16 hex digits of its SHA-256), the
-- language, where (`channel`), when, and the detail it lets us use (`contact`).
-- `subject` is the customer reference the response or case carries. `source` names
-- what gave it (`response:<survey>:<key>`, `subscription:<id>`), once. Withdrawal
-- stamps `withdrawn_at` and stops contact at once (see `Store::withdraw_consents`).
CREATE TABLE consents (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    subject TEXT,
    contact TEXT,
    text TEXT NOT NULL,
    version TEXT NOT NULL,
    language TEXT,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    given_at TEXT NOT NULL,
    withdrawn_at TEXT,
    UNIQUE (workspace_id, source)
);
CREATE INDEX consents_subject ON consents(workspace_id, subject);
CREATE INDEX consents_contact ON consents(workspace_id, contact);
