-- Why a response looks like a bot's (kohtaamo_domain::survey::Suspicion), NULL for
-- none. A suspect response is kept but not counted in score_rollups until accepted.
ALTER TABLE responses ADD COLUMN suspect TEXT;
