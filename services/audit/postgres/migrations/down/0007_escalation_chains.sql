-- Undoes 0007_escalation_chains.sql.
DROP INDEX alerts_escalation;
ALTER TABLE alerts
  DROP COLUMN acknowledged_at,
  DROP COLUMN acknowledged_step,
  DROP COLUMN acknowledged_by,
  DROP COLUMN escalation_step,
  DROP COLUMN escalation_id;
