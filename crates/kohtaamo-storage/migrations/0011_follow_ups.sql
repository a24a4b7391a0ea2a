-- Follow-ups: rules that open them, the follow-ups, and what was done to each. `{ID}`
-- as in 0001.

-- `terms`: a JSON array (option keys, or words). A rule's scope id is not a foreign
-- key (it names a survey, touchpoint, stage, journey or unit by `scope`); the fallback
-- unit is, without cascade, as for alert rules.
CREATE TABLE follow_up_rules (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    trigger_kind TEXT NOT NULL CHECK (trigger_kind IN ('nps', 'csat', 'ces', 'option', 'words', 'capture')),
    threshold BIGINT,
    question TEXT,
    terms TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_id BIGINT,
    unit_id BIGINT,
    contact_hours BIGINT NOT NULL,
    resolve_hours BIGINT NOT NULL,
    active BIGINT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, unit_id) REFERENCES units(workspace_id, id)
);

-- One follow-up per rule and response (`dedupe` = `r<rule>:<survey>:<response key>`),
-- or per capture (`c<encounter id>`): created with ON CONFLICT DO NOTHING in the
-- transaction that stores the response or capture, so none is missed on a crash and
-- a retry opens nothing twice. No foreign keys to the model: history outlives it.
-- `customer` is the identifier as the response or encounter carries it.
CREATE TABLE follow_ups (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    dedupe TEXT NOT NULL,
    rule_id BIGINT,
    source TEXT NOT NULL CHECK (source IN ('response', 'capture')),
    survey_id BIGINT,
    response_key TEXT,
    encounter_id BIGINT,
    customer TEXT,
    case_ref TEXT,
    touchpoint_id BIGINT,
    journey_id BIGINT,
    unit_id BIGINT,
    partner_id BIGINT,
    assignee_id BIGINT,
    status TEXT NOT NULL CHECK (status IN ('new', 'contacted', 'resolved', 'closed')),
    reason TEXT NOT NULL,
    may_contact BIGINT NOT NULL,
    contact_due TEXT NOT NULL,
    resolve_due TEXT NOT NULL,
    contacted_at TEXT,
    resolved_at TEXT,
    closed_at TEXT,
    root_cause TEXT,
    action_taken TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, dedupe),
    UNIQUE (workspace_id, id)
);
CREATE INDEX follow_ups_unit ON follow_ups(workspace_id, unit_id, status);
CREATE INDEX follow_ups_assignee ON follow_ups(workspace_id, assignee_id, status);
CREATE INDEX follow_ups_status ON follow_ups(workspace_id, status, contact_due);
CREATE INDEX follow_ups_customer ON follow_ups(workspace_id, customer);

-- Everything done to a follow-up, in order: assigned, contacted, resolved, closed,
-- reopened, a note. `detail` is the note, the assignee, or the root cause and action.
CREATE TABLE follow_up_events (
    id {ID},
    workspace_id BIGINT NOT NULL,
    follow_up_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL,
    FOREIGN KEY (workspace_id, follow_up_id) REFERENCES follow_ups(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX follow_up_events_follow_up ON follow_up_events(follow_up_id, id);
