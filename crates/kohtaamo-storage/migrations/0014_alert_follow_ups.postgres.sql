-- Follow-ups opened by score alerts (PostgreSQL; the SQLite twin does the same). A
-- follow-up rule may trigger on an alert (`trigger_kind = 'alert'`); the follow-up it
-- opens has `source = 'alert'` and names the alert (`alert_id`; no foreign key:
-- history outlives the rule that raised it). The two CHECK constraints of 0011 are
-- widened: the constraint names are PostgreSQL's defaults for a column CHECK.

ALTER TABLE follow_ups ADD COLUMN alert_id BIGINT;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_source_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_source_check
    CHECK (source IN ('response', 'capture', 'alert'));
ALTER TABLE follow_up_rules DROP CONSTRAINT follow_up_rules_trigger_kind_check;
ALTER TABLE follow_up_rules ADD CONSTRAINT follow_up_rules_trigger_kind_check
    CHECK (trigger_kind IN ('nps', 'csat', 'ces', 'option', 'words', 'capture', 'alert'));
