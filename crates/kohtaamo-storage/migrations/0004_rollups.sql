-- Score rollups: the sums analytics needs, per survey × touchpoint × day × channel ×
-- language, kept exact on ingest (a response counts once it is complete, which is
-- final) and on deletion, so a dashboard reads O(touchpoints × days) rows, never the
-- responses. touchpoint_id 0 = none; channel and locale '' = none.
CREATE TABLE score_rollups (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    survey_id BIGINT NOT NULL,
    touchpoint_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    locale TEXT NOT NULL,
    responses BIGINT NOT NULL,
    nps_n BIGINT NOT NULL,
    promoters BIGINT NOT NULL,
    detractors BIGINT NOT NULL,
    csat_n BIGINT NOT NULL,
    csat_pos BIGINT NOT NULL,
    ces_n BIGINT NOT NULL,
    ces_sum BIGINT NOT NULL,
    ces_sumsq BIGINT NOT NULL,
    PRIMARY KEY (survey_id, touchpoint_id, day, channel, locale),
    FOREIGN KEY (workspace_id, survey_id) REFERENCES surveys(workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX score_rollups_ws_day ON score_rollups(workspace_id, day);

-- Responses stored before this migration.
INSERT INTO score_rollups (workspace_id, survey_id, touchpoint_id, day, channel, locale, responses,
    nps_n, promoters, detractors, csat_n, csat_pos, ces_n, ces_sum, ces_sumsq)
SELECT workspace_id, survey_id, COALESCE(touchpoint_id, 0), day, COALESCE(channel, ''), COALESCE(locale, ''),
    COUNT(*), COUNT(nps),
    SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
    COUNT(csat), SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END),
    COUNT(ces), COALESCE(SUM(ces), 0), COALESCE(SUM(ces * ces), 0)
FROM responses WHERE complete = 1
GROUP BY workspace_id, survey_id, COALESCE(touchpoint_id, 0), day, COALESCE(channel, ''), COALESCE(locale, '');

-- Exports and theme analysis walk a survey's responses in id order, page by page.
CREATE INDEX responses_survey_id ON responses(survey_id, id);
