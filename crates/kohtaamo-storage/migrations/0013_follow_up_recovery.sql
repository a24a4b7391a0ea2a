-- Reaching the customer and measuring recovery.

-- The contact detail the customer gave with their consent to be contacted about the
-- answer (an e-mail address or a phone number; none: learning only), and their answer
-- to the recovery survey after closing (1–5, with when; cleared on reopening).
ALTER TABLE follow_ups ADD COLUMN contact TEXT;
ALTER TABLE follow_ups ADD COLUMN recovery_score BIGINT;
ALTER TABLE follow_ups ADD COLUMN recovery_at TEXT;
CREATE INDEX follow_ups_closed ON follow_ups(workspace_id, status, closed_at);

-- The unit that manages a partner: it gets the follow-ups of the partner's encounters.
ALTER TABLE partners ADD COLUMN unit_id BIGINT;
