-- What Twilio charged for each attempt (docs/adr/0036), read back by a worker once the attempt's
-- final status was known: the amount in millionths of the currency (negative for a credit), the
-- currency, the SMS segments or call seconds billed, and the Klaxon name of the Twilio account that
-- charged it. All null until read, and written together.
ALTER TABLE attempts
  ADD COLUMN charge_micros bigint,
  ADD COLUMN charge_currency text,
  ADD COLUMN charge_segments integer CHECK (charge_segments >= 0),
  ADD COLUMN charge_duration_seconds integer CHECK (charge_duration_seconds >= 0),
  ADD COLUMN charge_account text,
  ADD CONSTRAINT attempts_charge_whole
    CHECK ((charge_micros IS NULL) = (charge_currency IS NULL)
           AND (charge_micros IS NULL) = (charge_segments IS NULL)
           AND (charge_micros IS NULL) = (charge_duration_seconds IS NULL)
           AND (charge_micros IS NULL) = (charge_account IS NULL));

