-- Cases and their status pages. `{ID}` as in 0001.

-- A journey's customer-facing steps, in order (`position` from 0; the last one means
-- the case is done). Texts are JSON objects by language; `statuses` a JSON array of
-- the internal statuses the step covers. Replaced as a whole when edited.
CREATE TABLE case_steps (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    step_key TEXT NOT NULL,
    name TEXT NOT NULL,
    meaning TEXT NOT NULL,
    next_text TEXT NOT NULL,
    expected_days BIGINT,
    statuses TEXT NOT NULL,
    UNIQUE (workspace_id, journey_id, position),
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys(workspace_id, id) ON DELETE CASCADE
);

-- A case. `client_id`: the sender's id (a retry creates nothing twice); `reference`:
-- what the customer reads aloud; `customer`: the stored identifier as in encounters
-- (no foreign key: history outlives the model, as for follow-ups). `status` and
-- `status_at` are the latest change's; `ask`/`ask_due` what is needed from the
-- customer now; `verifier_hash` the keyed hash (HMAC, installation secret
-- `case-verifier`) of the second factor the customer may look the case up with.
CREATE TABLE cases (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    journey_id BIGINT NOT NULL,
    customer TEXT,
    unit_id BIGINT,
    language TEXT,
    title TEXT,
    status TEXT NOT NULL,
    status_at TEXT NOT NULL,
    ask TEXT,
    ask_due TEXT,
    verifier_hash TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, client_id),
    UNIQUE (workspace_id, reference),
    UNIQUE (workspace_id, id)
);
CREATE INDEX cases_customer ON cases(workspace_id, customer);
CREATE INDEX cases_journey ON cases(workspace_id, journey_id, status);

-- Every status change of a case; the same status at the same time again is a retry.
CREATE TABLE case_changes (
    id {ID},
    workspace_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT,
    ask TEXT,
    ask_due TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (case_id, status, at),
    FOREIGN KEY (workspace_id, case_id) REFERENCES cases(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX case_changes_case ON case_changes(case_id, at);

-- Capability links to a case's status page: only the SHA-256 of the token is kept.
CREATE TABLE case_links (
    id {ID},
    workspace_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (workspace_id, case_id) REFERENCES cases(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX case_links_case ON case_links(case_id);
