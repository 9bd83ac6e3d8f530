-- Undoes 0004_audit_records.sql. Destroys every data key, so what was encrypted is gone.
DROP TABLE dead_letters;
DROP FUNCTION audit_events_ensure_partition(date);
DROP TABLE audit_events;
DROP INDEX alerts_created_at;
DROP INDEX alerts_caller_recipient_created;
DROP INDEX alerts_caller_status_created;
DROP INDEX alerts_caller_created;
CREATE INDEX alerts_caller_alert_id ON alerts (caller, alert_id);
ALTER TABLE alerts
  DROP COLUMN retry_count,
  DROP COLUMN text_ciphertext,
  DROP COLUMN recipient_ciphertext,
  DROP COLUMN recipient_index;
DROP TABLE data_keys;
