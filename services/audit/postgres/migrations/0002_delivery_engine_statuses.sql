-- The delivery engine's statuses (docs/adr/0007-delivery-engine.md): WAITING (6, rank 1),
-- SUPPRESSED (7) and CANCELLED (8) (final, rank 3), ACKNOWLEDGED (9, rank 4). An alert whose
-- only events so far moved an attempt (a voice call's callback) has no status yet: 0, rank 0.
-- Attempts carry their channel (a voice alert's SMS fallback is an SMS attempt), and alerts when
-- their status last changed, which orders the rank-1 statuses. Migrations are forward-only
-- (common/pg/migrations.h); undoing this one is a new migration.

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_rank_matches_status;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check CHECK (status BETWEEN 0 AND 9);
ALTER TABLE alerts ADD CONSTRAINT alerts_status_rank_matches_status
  CHECK (status_rank = CASE WHEN status = 0 THEN 0
                            WHEN status IN (1, 6) THEN 1
                            WHEN status = 2 THEN 2
                            WHEN status = 9 THEN 4
                            ELSE 3 END);
ALTER TABLE alerts ADD COLUMN status_at timestamptz;
UPDATE alerts SET status_at = updated_at;
ALTER TABLE alerts ALTER COLUMN status_at SET NOT NULL;

ALTER TABLE attempts DROP CONSTRAINT attempts_status_check;
ALTER TABLE attempts DROP CONSTRAINT attempts_status_rank_matches_status;
ALTER TABLE attempts ADD CONSTRAINT attempts_status_check CHECK (status BETWEEN 1 AND 9);
ALTER TABLE attempts ADD CONSTRAINT attempts_status_rank_matches_status
  CHECK (status_rank = CASE WHEN status IN (1, 6) THEN 1
                            WHEN status = 2 THEN 2
                            WHEN status = 9 THEN 4
                            ELSE 3 END);
-- 0: recorded before attempts had a channel.
ALTER TABLE attempts ADD COLUMN channel smallint NOT NULL DEFAULT 0 CHECK (channel IN (0, 1, 2));
