-- Undoes 0011_attempt_charges.sql.
ALTER TABLE attempts
  DROP CONSTRAINT attempts_charge_whole,
  DROP COLUMN charge_micros,
  DROP COLUMN charge_currency,
  DROP COLUMN charge_segments,
  DROP COLUMN charge_duration_seconds,
  DROP COLUMN charge_account;
