-- Follow-up clocks and escalation, and the durable e-mail queue. `{ID}` as in 0001.

-- A unit's lead (told second when a follow-up's target is missed) and an account's
-- e-mail address (where notifications go; none: in-app only).
ALTER TABLE unit_members ADD COLUMN lead BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN email TEXT;

-- The targets a follow-up runs on (from its rule; a rule's new targets re-time the
-- open follow-ups it opened), and the time its clocks stood still while waiting for the
-- customer: `waiting_since` while waiting, `paused_seconds` summed over waits that
-- ended. Due times are created_at + target + paused (kept in contact_due/resolve_due).
ALTER TABLE follow_ups ADD COLUMN contact_hours BIGINT NOT NULL DEFAULT 24;
ALTER TABLE follow_ups ADD COLUMN resolve_hours BIGINT NOT NULL DEFAULT 120;
ALTER TABLE follow_ups ADD COLUMN paused_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE follow_ups ADD COLUMN waiting_since TEXT;

-- Each escalation step of each clock of a follow-up, taken once: the instance whose
-- INSERT … ON CONFLICT DO NOTHING added the row tells the people (step 1 the assignee,
-- 2 the unit's lead, 3 the parent unit).
CREATE TABLE follow_up_escalations (
    workspace_id BIGINT NOT NULL,
    follow_up_id BIGINT NOT NULL,
    clock TEXT NOT NULL CHECK (clock IN ('contact', 'resolve')),
    step BIGINT NOT NULL CHECK (step BETWEEN 1 AND 3),
    at TEXT NOT NULL,
    PRIMARY KEY (follow_up_id, clock, step),
    FOREIGN KEY (workspace_id, follow_up_id) REFERENCES follow_ups(workspace_id, id) ON DELETE CASCADE
);

-- E-mail to send, written in the transaction of what caused it; the mail job claims
-- due rows (a lease in next_at), sends over SMTP, and marks them sent, or schedules a
-- retry with backoff until `failed`. `dedupe` keeps one message per cause and address.
CREATE TABLE mail_queue (
    id {ID},
    workspace_id BIGINT REFERENCES workspaces(id) ON DELETE CASCADE,
    dedupe TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts BIGINT NOT NULL,
    next_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX mail_queue_next ON mail_queue(status, next_at);
