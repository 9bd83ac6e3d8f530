-- Undoes 0009_inbound_messages.sql.
DROP INDEX alerts_recipient_created;
DROP INDEX audit_events_inbound;
