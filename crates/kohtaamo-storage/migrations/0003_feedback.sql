-- Feedback: surveys, responses, impressions, personal invitations, an audit trail and
-- instance settings. `{ID}` as in 0001; `{RANDOM_KEY}` is a backend expression giving
-- an unguessable text key (the survey's public link).

CREATE TABLE surveys (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    touchpoint_id BIGINT,
    journey_id BIGINT,
    package_id BIGINT,
    intro TEXT NOT NULL,
    thanks TEXT NOT NULL,
    questions TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    public_key TEXT NOT NULL DEFAULT {RANDOM_KEY},
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    UNIQUE (public_key),
    -- No cascade: a touchpoint, journey or package with a survey cannot be deleted
    -- (409) until the survey is moved or removed.
    FOREIGN KEY (workspace_id, touchpoint_id) REFERENCES touchpoints(workspace_id, id),
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys(workspace_id, id),
    FOREIGN KEY (workspace_id, package_id) REFERENCES packages(workspace_id, id)
);

-- One row per response; `response_key` is the client's id, unique per survey, so a
-- retried post stores nothing twice. Scores have their own columns for analytics.
-- No cascade from surveys: a survey with responses cannot be deleted by accident.
CREATE TABLE responses (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    survey_id BIGINT NOT NULL,
    response_key TEXT NOT NULL,
    touchpoint_id BIGINT,
    channel TEXT,
    locale TEXT,
    customer_ref TEXT,
    case_ref TEXT,
    custom TEXT NOT NULL,
    answers TEXT NOT NULL,
    nps BIGINT,
    csat BIGINT,
    ces BIGINT,
    complete BIGINT NOT NULL,
    day TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (survey_id, response_key),
    FOREIGN KEY (workspace_id, survey_id) REFERENCES surveys(workspace_id, id)
);
CREATE INDEX responses_survey_time ON responses(survey_id, created_at);

-- Times a survey was shown, per touchpoint (0 = none) and day.
CREATE TABLE impressions (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    survey_id BIGINT NOT NULL,
    touchpoint_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    shown BIGINT NOT NULL,
    PRIMARY KEY (survey_id, touchpoint_id, day),
    FOREIGN KEY (workspace_id, survey_id) REFERENCES surveys(workspace_id, id) ON DELETE CASCADE
);

-- Personal, single-use invitation links; only the SHA-256 of the token is stored.
CREATE TABLE invitations (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    survey_id BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    touchpoint_id BIGINT,
    customer_ref TEXT,
    case_ref TEXT,
    created_at TEXT NOT NULL,
    used_at TEXT,
    response_key TEXT,
    FOREIGN KEY (workspace_id, survey_id) REFERENCES surveys(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX invitations_survey ON invitations(survey_id);

-- Who did what to data that is not the model (deleted responses, …).
CREATE TABLE audit_log (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX audit_log_ws ON audit_log(workspace_id, id);

-- Per-installation values shared by every instance (e.g. the key that signs the
-- public form's render time).
CREATE TABLE instance_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
