-- ListInboundMessages (ADR 0032) pages newest first through the inbound SMS audit recorded: a
-- partial index holds only those rows of the event log, which are few beside the alerts' events.
-- Each belongs to the caller of the last alert to its sender that Twilio accepted before it
-- arrived: the second index finds the sender's alerts, audit_events_alert their acceptances.
CREATE INDEX audit_events_inbound ON audit_events (occurred_at DESC, event_key DESC)
  WHERE kind = 'inbound_message';
CREATE INDEX alerts_recipient_created ON alerts (recipient_index, created_at DESC, alert_id DESC)
  WHERE recipient_index IS NOT NULL;
