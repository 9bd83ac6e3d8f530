-- Audit's encrypted records (docs/adr/0008-audit-records.md).
--
-- data_keys: one data key per record that holds personal data (an alert, a dead letter, an
-- inbound message), stored only wrapped by a versioned key-encryption key. `owner` is the record
-- and is also the context the key is wrapped under ("alerts/<alert id>", ...), so a wrapped key
-- copied to another row does not unwrap. Rotation rewraps rows whose kek_version is not the
-- keyring's current one; crypto-shredding deletes the row once created_at is older than personal
-- data's retention, after which the record's ciphertext can never be opened again.
CREATE TABLE data_keys (
  owner text PRIMARY KEY,
  kek_version integer NOT NULL CHECK (kek_version > 0),
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX data_keys_created_at ON data_keys (created_at);

-- The alert's personal fields, sealed (AES-256-GCM) under the data key owned by
-- "alerts/<alert_id>" with associated data naming table, row and column; the recipient also as a
-- blind index (HMAC-SHA256 under its own key) so ListAlerts can filter by recipient.
ALTER TABLE alerts
  ADD COLUMN recipient_index bytea,
  ADD COLUMN recipient_ciphertext bytea,
  ADD COLUMN text_ciphertext bytea,
  ADD COLUMN retry_count integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0);

-- ListAlerts pages newest first through a caller's alerts, optionally by status or recipient;
-- the delivery report and retention select by creation time.
DROP INDEX alerts_caller_alert_id;
CREATE INDEX alerts_caller_created ON alerts (caller, created_at DESC, alert_id DESC);
CREATE INDEX alerts_caller_status_created ON alerts (caller, status, created_at DESC, alert_id DESC);
CREATE INDEX alerts_caller_recipient_created
  ON alerts (caller, recipient_index, created_at DESC, alert_id DESC)
  WHERE recipient_index IS NOT NULL;
CREATE INDEX alerts_created_at ON alerts (created_at);

-- Every event audit consumed, one row per event (not per Kafka message: a republished event has
-- the same event_key and is stored once), partitioned by month of occurred_at so retention drops
-- whole partitions. Personal data only as ciphertext (an inbound message's text and sender, under
-- the data key owned by data_key_owner). The default partition catches an event outside every
-- monthly partition, so none is ever refused.
CREATE TABLE audit_events (
  occurred_at timestamptz NOT NULL,
  event_key text NOT NULL,
  alert_id uuid,
  kind text NOT NULL,
  caller text NOT NULL DEFAULT '',
  channel smallint NOT NULL DEFAULT 0 CHECK (channel IN (0, 1, 2)),
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  retry_count integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  status smallint NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 9),
  twilio_sid text NOT NULL DEFAULT '',
  twilio_error_code integer NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  recipient_index bytea,
  recipient_country_code text NOT NULL DEFAULT '',
  recipient_last4 text NOT NULL DEFAULT '',
  data_key_owner text,
  personal_ciphertext bytea,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_key, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX audit_events_alert ON audit_events (alert_id, occurred_at);
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

-- Creates the monthly partition holding `month_start` (UTC) unless it exists. The retention job
-- and audit's start call it for the coming months, so the default partition stays empty.
CREATE FUNCTION audit_events_ensure_partition(month_start date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  first_day date := date_trunc('month', month_start)::date;
BEGIN
  EXECUTE format(
    'CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
    'audit_events_' || to_char(first_day, 'YYYY_MM'),
    first_day::timestamp AT TIME ZONE 'UTC',
    (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC');
END
$$;
SELECT audit_events_ensure_partition((now() AT TIME ZONE 'UTC' + make_interval(months => m))::date)
  FROM generate_series(-1, 3) AS m;

-- klaxon.dlq: one row per dead-lettered alert (a dead-lettered alert is final; its replay is a new
-- alert, recorded in replayed_as). The whole AlertRequested is kept sealed under the data key
-- owned by "dead_letters/<alert_id>", so a replay can republish it.
CREATE TABLE dead_letters (
  alert_id uuid PRIMARY KEY,
  caller text NOT NULL,
  channel smallint NOT NULL CHECK (channel IN (1, 2)),
  attempt integer NOT NULL CHECK (attempt > 0),
  reason text NOT NULL,
  twilio_error_code integer NOT NULL DEFAULT 0,
  recipient_index bytea NOT NULL,
  recipient_country_code text NOT NULL,
  recipient_last4 text NOT NULL,
  request_ciphertext bytea NOT NULL,
  dead_lettered_at timestamptz NOT NULL,
  replayed_as uuid,
  replayed_at timestamptz
);
CREATE INDEX dead_letters_caller ON dead_letters (caller, dead_lettered_at DESC, alert_id DESC);
CREATE INDEX dead_letters_pending ON dead_letters (dead_lettered_at) WHERE replayed_at IS NULL;
