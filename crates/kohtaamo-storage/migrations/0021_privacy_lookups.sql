-- Finding one person's rows without reading a workspace's: an index for every column
-- `privacy::Finder` looks a person up by that had none.
CREATE INDEX follow_ups_case ON follow_ups(workspace_id, case_ref);
CREATE INDEX follow_ups_contact ON follow_ups(workspace_id, contact);
CREATE INDEX follow_ups_encounter ON follow_ups(workspace_id, encounter_id);
CREATE INDEX invitations_customer ON invitations(workspace_id, customer_ref);
CREATE INDEX invitations_case ON invitations(workspace_id, case_ref);
CREATE INDEX case_subscriptions_email ON case_subscriptions(workspace_id, email);
CREATE INDEX mail_queue_to ON mail_queue(workspace_id, to_addr);
