-- The follow-ups a response opened (to announce them), found without a scan.
CREATE INDEX follow_ups_response ON follow_ups(workspace_id, survey_id, response_key);
