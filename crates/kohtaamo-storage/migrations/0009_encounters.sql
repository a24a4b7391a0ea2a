-- The encounter log: customers and their identifiers, links between customers found
-- to be one person, encounters, the workspace's own encounter kinds, and frontline
-- captures with their themes. `{ID}` as in 0001.

-- `origin`: the identifier the customer was first recorded under (it ties a batch's
-- new customers to their identifiers without one statement per customer).
CREATE TABLE customers (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, id)
);

-- `ident` is `kind:value`, or for a personal kind (email, phone) `kind:#<HMAC>` of
-- the normalised value with the installation secret: the raw value is never stored.
CREATE TABLE customer_identifiers (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    ident TEXT NOT NULL,
    kind TEXT NOT NULL,
    customer_id BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, ident),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_identifiers_customer ON customer_identifiers(customer_id);

-- Two customers found to be one person. Nothing is merged: a timeline gathers the
-- customers linked to each other, and unlinking (unlinked_at set) restores both.
CREATE TABLE customer_links (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    customer_a BIGINT NOT NULL,
    customer_b BIGINT NOT NULL,
    reason TEXT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    unlinked_by TEXT,
    unlinked_at TEXT,
    FOREIGN KEY (workspace_id, customer_a) REFERENCES customers(workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, customer_b) REFERENCES customers(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_links_a ON customer_links(customer_a);
CREATE INDEX customer_links_b ON customer_links(customer_b);

CREATE TABLE encounter_kinds (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

-- No foreign keys to touchpoints, units or partners: history outlives the model. The
-- names as they were when recorded are kept beside the ids (`touchpoint_name`,
-- `owner_name`, JSON texts), so renaming a unit does not rewrite history.
-- `client_id` is the sender's id, unique per workspace: a retry stores nothing twice.
CREATE TABLE encounters (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    touchpoint_id BIGINT,
    touchpoint_name TEXT,
    stage_id BIGINT,
    journey_id BIGINT,
    channel TEXT NOT NULL,
    unit_id BIGINT,
    partner_id BIGINT,
    owner_name TEXT,
    customer_id BIGINT,
    case_ref TEXT,
    kind TEXT NOT NULL,
    text TEXT,
    attributes TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('api', 'import', 'feedback', 'staff', 'case', 'follow-up')),
    recorded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, client_id),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers(workspace_id, id)
);
CREATE INDEX encounters_customer ON encounters(workspace_id, customer_id, occurred_at);
CREATE INDEX encounters_case ON encounters(workspace_id, case_ref, occurred_at);
CREATE INDEX encounters_touchpoint ON encounters(workspace_id, touchpoint_id, occurred_at);
CREATE INDEX encounters_unit ON encounters(workspace_id, unit_id, occurred_at);
CREATE INDEX encounters_time ON encounters(workspace_id, occurred_at);

-- A customer's feedback joins their timeline by `customer_ref` (no copy that can drift).
CREATE INDEX responses_customer ON responses(workspace_id, customer_ref);
CREATE INDEX responses_case ON responses(workspace_id, case_ref);

-- Themes of frontline captures. Editors keep the list; anyone may propose a theme
-- (status 'proposed'), which an editor accepts or merges into another.
CREATE TABLE capture_themes (
    id {ID},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'proposed')),
    proposed_by TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, slug),
    UNIQUE (workspace_id, id)
);

-- What a staff member recorded about a customer: one row per capture encounter.
CREATE TABLE captures (
    encounter_id BIGINT PRIMARY KEY REFERENCES encounters(id) ON DELETE CASCADE,
    workspace_id BIGINT NOT NULL,
    words TEXT NOT NULL CHECK (words IN ('quote', 'interpretation')),
    theme_id BIGINT,
    feeling BIGINT NOT NULL CHECK (feeling BETWEEN -2 AND 2),
    needs_follow_up BIGINT NOT NULL,
    promise TEXT,
    promise_due TEXT,
    FOREIGN KEY (workspace_id, theme_id) REFERENCES capture_themes(workspace_id, id)
);
CREATE INDEX captures_theme ON captures(workspace_id, theme_id);
