-- Audit's status projection. Statuses are klaxon.types.v1.AlertStatus values; status_rank is
-- their order (QUEUED 1 < SENT 2 < any final 3) and is what the write guards compare, so a late
-- or repeated event can never move an alert backwards. Recipients are kept only as country
-- calling code and last four digits; the encrypted full number arrives with its own migration.

CREATE TABLE alerts (
  alert_id uuid PRIMARY KEY,
  caller text NOT NULL,
  channel smallint NOT NULL CHECK (channel IN (1, 2)),
  status smallint NOT NULL CHECK (status BETWEEN 1 AND 5),
  status_rank smallint NOT NULL,
  requested boolean NOT NULL,
  recipient_country_code text NOT NULL DEFAULT '',
  recipient_last4 text NOT NULL DEFAULT '',
  twilio_sid text NOT NULL DEFAULT '',
  twilio_error_code integer NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT alerts_status_rank_matches_status
    CHECK (status_rank = CASE status WHEN 1 THEN 1 WHEN 2 THEN 2 ELSE 3 END)
);

-- A caller's alerts. alert_id is a UUIDv7, so this index also orders them by creation time
-- (ListAlerts pages through it).
CREATE INDEX alerts_caller_alert_id ON alerts (caller, alert_id);

CREATE TABLE attempts (
  alert_id uuid NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
  attempt integer NOT NULL CHECK (attempt > 0),
  status smallint NOT NULL CHECK (status BETWEEN 1 AND 5),
  status_rank smallint NOT NULL,
  twilio_sid text NOT NULL DEFAULT '',
  twilio_error_code integer NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (alert_id, attempt),
  CONSTRAINT attempts_status_rank_matches_status
    CHECK (status_rank = CASE status WHEN 1 THEN 1 WHEN 2 THEN 2 ELSE 3 END)
);

-- How far audit has consumed each partition: next_offset is committed in the same transaction as
-- the projection change of the message before it, so GetAlert can tell "not consumed yet" from
-- "does not exist" (docs/adr/0002-read-your-writes-for-getalert.md).
CREATE TABLE consumer_progress (
  topic text NOT NULL,
  partition integer NOT NULL CHECK (partition >= 0),
  next_offset bigint NOT NULL CHECK (next_offset >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);
