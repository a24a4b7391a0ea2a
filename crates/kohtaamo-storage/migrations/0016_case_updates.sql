-- Keeping a case's customer informed, and what staff learn from cases. `{ID}` as in
-- 0001.

-- E-mail on step changes, where the customer consented: the address (needed to send;
-- personal data), the language to write in, the consent as the customer saw it and
-- where it was given (`status-page`, `api`). The unsubscribe link in each message is
-- the row's id with its keyed hash (installation secret `case-unsubscribe`), so no
-- token is stored. Unsubscribing keeps the row, stamped.
CREATE TABLE case_subscriptions (
    id {ID},
    workspace_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    email TEXT NOT NULL,
    language TEXT NOT NULL,
    consent TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    unsubscribed_at TEXT,
    UNIQUE (case_id, email),
    FOREIGN KEY (workspace_id, case_id) REFERENCES cases(workspace_id, id) ON DELETE CASCADE
);

-- How often a case's status page was opened through a link, per hour (UTC,
-- `YYYY-MM-DDTHH`): counted in memory and added in batches; staff previews do not
-- count.
CREATE TABLE case_opens (
    workspace_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    hour TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (case_id, hour),
    FOREIGN KEY (workspace_id, case_id) REFERENCES cases(workspace_id, id) ON DELETE CASCADE
);

-- A workspace's case settings: what the look-up form calls the second factor (a JSON
-- object by language, e.g. {"fi": "Postinumero", "en": "Postcode"}).
CREATE TABLE case_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    verifier_label TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The address a message's recipient unsubscribes at (one click, RFC 8058), sent as
-- its List-Unsubscribe header; none for messages to staff.
ALTER TABLE mail_queue ADD COLUMN unsubscribe TEXT;
