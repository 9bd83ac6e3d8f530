-- Undoes 0002_delivery_engine_statuses.sql. The older checks are validated against the rows
-- there are, so an alert or attempt in a delivery-engine status (0, 6 to 9) makes this fail
-- instead of being rewritten: such rows mean something the older schema cannot say.
ALTER TABLE attempts DROP COLUMN channel;
ALTER TABLE attempts DROP CONSTRAINT attempts_status_rank_matches_status;
ALTER TABLE attempts DROP CONSTRAINT attempts_status_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_status_check CHECK (status BETWEEN 1 AND 5);
ALTER TABLE attempts ADD CONSTRAINT attempts_status_rank_matches_status
  CHECK (status_rank = CASE status WHEN 1 THEN 1 WHEN 2 THEN 2 ELSE 3 END);

ALTER TABLE alerts DROP COLUMN status_at;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_rank_matches_status;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status BETWEEN 1 AND 5);
ALTER TABLE alerts ADD CONSTRAINT alerts_status_rank_matches_status
  CHECK (status_rank = CASE status WHEN 1 THEN 1 WHEN 2 THEN 2 ELSE 3 END);
