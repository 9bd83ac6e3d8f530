-- Caller callbacks (docs/adr/0028-caller-callbacks.md): an outbox of status changes to POST to
-- the callers that configured a callback URL. A row is written in the transaction that stores the
-- change, so none is lost; the dispatcher sends each alert's rows in sequence order, only the
-- lowest pending one at a time (the later ones wait with next_attempt_at 'infinity' until it is
-- settled), and leases a row by moving next_attempt_at past its request's timeout, so a second
-- audit replica (or a restarted one) takes it only once the lease ran out.

-- SendAlert's callback_url: the alert's own URL instead of its caller's configured one.
ALTER TABLE alerts ADD COLUMN callback_url text NOT NULL DEFAULT '';

CREATE TABLE caller_callbacks (
  alert_id uuid NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
  sequence integer NOT NULL,            -- 1, 2, ... per alert, in the order the changes were stored
  caller text NOT NULL,
  channel smallint NOT NULL,
  status smallint NOT NULL,
  attempt integer NOT NULL,
  twilio_error_code integer NOT NULL,
  reason text NOT NULL,
  url text NOT NULL DEFAULT '',         -- the alert's own callback URL; empty: the caller's
  occurred_at timestamptz NOT NULL,     -- when the status changed (the event's time)
  stored_at timestamptz NOT NULL DEFAULT now(),
  state smallint NOT NULL DEFAULT 0,    -- 0 pending, 1 delivered, 2 dead-lettered
  next_attempt_at timestamptz NOT NULL,  -- 'infinity' behind the alert's lowest pending row
  attempts integer NOT NULL DEFAULT 0,  -- POSTs started
  last_error text NOT NULL DEFAULT '',
  finished_at timestamptz,              -- delivered or dead-lettered
  PRIMARY KEY (alert_id, sequence)
);

-- What is due, oldest first; finished rows leave the index.
CREATE INDEX caller_callbacks_due ON caller_callbacks (next_attempt_at) WHERE state = 0;
