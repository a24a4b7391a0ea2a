-- One row the server may write to find out whether the database takes writes again
-- (after a full disk; see Store::ping). Holds nothing else.

CREATE TABLE kohtaamo_meta (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    probed_at TEXT
);

INSERT INTO kohtaamo_meta (id, probed_at) VALUES (1, NULL);
