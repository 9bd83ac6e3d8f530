-- Escalation chains (ADR 0029): each page of a chain is an ordinary alert that names its chain
-- (the chain's id is its first page's alert id) and its step, 1 first. The chain's own row, its
-- first page's, records which page's acknowledgement stopped the chain, that page's step and
-- when. Rows stored before this migration belong to no chain ('' and 0).
ALTER TABLE alerts
  ADD COLUMN escalation_id text NOT NULL DEFAULT '',
  ADD COLUMN escalation_step integer NOT NULL DEFAULT 0,
  ADD COLUMN acknowledged_by text NOT NULL DEFAULT '',
  ADD COLUMN acknowledged_step integer NOT NULL DEFAULT 0,
  ADD COLUMN acknowledged_at timestamptz;

-- GetAlert of a chain lists its pages. Most alerts belong to no chain and stay out of the index;
-- a query must say escalation_id <> '' itself for the planner to use it with a parameter.
CREATE INDEX alerts_escalation ON alerts (escalation_id) WHERE escalation_id <> '';
