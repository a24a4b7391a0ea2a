-- Kohtaamo schema, version 1. Portable SQL for SQLite and PostgreSQL; `{ID}` is the
-- only backend-specific token (an auto-assigned BIGINT primary key), filled in by
-- migrate.rs. Booleans are BIGINT 0/1 and times are RFC 3339 UTC TEXT so that one set
-- of queries reads them the same way on both backends.
-- Every model table carries workspace_id, and references are composite
-- (workspace_id, id) foreign keys: the database itself refuses a cross-workspace link.

CREATE TABLE workspaces (
    id {ID},
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    default_language TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id {ID},
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_superadmin BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    PRIMARY KEY (workspace_id, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id {ID},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE units (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    parent_id BIGINT,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, parent_id) REFERENCES units(workspace_id, id)
);

CREATE TABLE partners (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

CREATE TABLE segments (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    needs TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

CREATE TABLE channels (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

CREATE TABLE people (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    unit_id BIGINT,
    role_title TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, unit_id) REFERENCES units(workspace_id, id)
);

CREATE TABLE relations (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider_unit_id BIGINT,
    provider_person_id BIGINT,
    customer_segment_id BIGINT,
    customer_unit_id BIGINT,
    customer_partner_id BIGINT,
    value_statement TEXT NOT NULL,
    review_interval_days BIGINT NOT NULL,
    last_reviewed_on TEXT,
    -- last_reviewed_on + interval, or '' when never reviewed: lets "stale" be a plain
    -- comparison on both backends.
    review_due_on TEXT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, provider_unit_id) REFERENCES units(workspace_id, id),
    FOREIGN KEY (workspace_id, provider_person_id) REFERENCES people(workspace_id, id),
    FOREIGN KEY (workspace_id, customer_segment_id) REFERENCES segments(workspace_id, id),
    FOREIGN KEY (workspace_id, customer_unit_id) REFERENCES units(workspace_id, id),
    FOREIGN KEY (workspace_id, customer_partner_id) REFERENCES partners(workspace_id, id),
    CHECK ((provider_unit_id IS NULL) <> (provider_person_id IS NULL))
);
CREATE UNIQUE INDEX relations_pair ON relations (
    workspace_id, COALESCE(provider_unit_id, 0), COALESCE(provider_person_id, 0),
    COALESCE(customer_segment_id, 0), COALESCE(customer_unit_id, 0), COALESCE(customer_partner_id, 0)
);

CREATE TABLE elements (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'product')),
    customer_visible BIGINT NOT NULL,
    has_it_components BIGINT NOT NULL,
    owner_unit_id BIGINT,
    owner_partner_id BIGINT,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, owner_unit_id) REFERENCES units(workspace_id, id),
    FOREIGN KEY (workspace_id, owner_partner_id) REFERENCES partners(workspace_id, id),
    CHECK (owner_unit_id IS NULL OR owner_partner_id IS NULL)
);

CREATE TABLE packages (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    published BIGINT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

CREATE TABLE package_elements (
    workspace_id BIGINT NOT NULL,
    package_id BIGINT NOT NULL,
    element_id BIGINT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('core', 'enabling', 'complementary')),
    position BIGINT NOT NULL,
    PRIMARY KEY (package_id, element_id),
    FOREIGN KEY (workspace_id, package_id) REFERENCES packages(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, element_id) REFERENCES elements(workspace_id, id)
);

CREATE TABLE journeys (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    segment_id BIGINT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, segment_id) REFERENCES segments(workspace_id, id)
);

CREATE TABLE journey_packages (
    workspace_id BIGINT NOT NULL,
    journey_id BIGINT NOT NULL,
    package_id BIGINT NOT NULL,
    role TEXT,
    position BIGINT NOT NULL,
    PRIMARY KEY (journey_id, package_id),
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, package_id) REFERENCES packages(workspace_id, id)
);

CREATE TABLE stages (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    journey_id BIGINT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (journey_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, journey_id) REFERENCES journeys(workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE touchpoints (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stage_id BIGINT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    channel TEXT NOT NULL,
    owner_unit_id BIGINT,
    owner_partner_id BIGINT,
    element_id BIGINT,
    lane TEXT NOT NULL CHECK (lane IN ('customer_action', 'frontstage', 'backstage', 'support_process')),
    interface TEXT,
    emotion BIGINT NOT NULL CHECK (emotion BETWEEN -2 AND 2),
    moment_of_truth BIGINT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, stage_id) REFERENCES stages(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, owner_unit_id) REFERENCES units(workspace_id, id),
    FOREIGN KEY (workspace_id, owner_partner_id) REFERENCES partners(workspace_id, id),
    FOREIGN KEY (workspace_id, element_id) REFERENCES elements(workspace_id, id),
    CHECK (owner_unit_id IS NULL OR owner_partner_id IS NULL)
);
CREATE INDEX touchpoints_stage ON touchpoints(stage_id, position);

CREATE TABLE process_steps (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_unit_id BIGINT,
    duration_minutes BIGINT,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, owner_unit_id) REFERENCES units(workspace_id, id)
);

CREATE TABLE step_touchpoints (
    workspace_id BIGINT NOT NULL,
    step_id BIGINT NOT NULL,
    touchpoint_id BIGINT NOT NULL,
    role TEXT,
    position BIGINT NOT NULL,
    PRIMARY KEY (step_id, touchpoint_id),
    FOREIGN KEY (workspace_id, step_id) REFERENCES process_steps(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, touchpoint_id) REFERENCES touchpoints(workspace_id, id) ON DELETE CASCADE
);
