-- Journey mining (docs/metrics.md, "Journey mining"). How the conformance check reads
-- a touchpoint in its stage: one of the stage's alternatives (the default), required,
-- or optional.
ALTER TABLE touchpoints ADD COLUMN presence TEXT NOT NULL DEFAULT 'alternative'
    CHECK (presence IN ('alternative', 'required', 'optional'));

-- The instances of one journey in a period are the customers and cases with an
-- encounter at one of its touchpoints then: a range scan of this index.
CREATE INDEX encounters_journey ON encounters(workspace_id, journey_id, occurred_at);
