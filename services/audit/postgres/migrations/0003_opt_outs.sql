-- The durable record of each recipient's consent (ADR 0007, issue 4: "Postgres as the record"):
-- the latest opt-out or opt-in Twilio reported, one row per recipient. No phone number is
-- stored: the recipient is its keyed token (log::PhoneRedactor, KLAXON_PII_HMAC_KEY) with the
-- country calling code and last four digits an operator needs to recognise it. The checks make a
-- plaintext number impossible to store by mistake. changed_at is when ingress received the
-- keyword; a row only ever moves to a later one (see PostgresAlertStore::RecordConsent).
-- The token depends on the key: rotating KLAXON_PII_HMAC_KEY orphans these rows, so a rotation
-- needs a re-keying step (which only the numbers in Kafka's retained events can feed).

CREATE TABLE opt_outs (
  recipient_token text PRIMARY KEY CHECK (recipient_token ~ '^[0-9a-f]{16}$'),
  country_code text NOT NULL CHECK (country_code ~ '^[0-9]{1,3}$'),
  last4 text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  opted_out boolean NOT NULL,
  keyword text NOT NULL,
  changed_at timestamptz NOT NULL
);
