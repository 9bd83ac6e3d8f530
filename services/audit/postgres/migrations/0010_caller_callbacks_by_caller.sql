-- Caller callbacks (ADR 0028): a claim takes each caller's due rows from its own part of the
-- index, so serving a caller that holds half the POST slots last never reads past its backlog
-- (the index by due time alone made every claim walk that caller's due rows to find the others').
-- The callers with pending rows are found by skipping through the same index.
-- caller_callbacks_due stays until a later release drops it: replicas still on the previous
-- release claim through it during a rolling update.
CREATE INDEX caller_callbacks_due_by_caller ON caller_callbacks (caller, next_attempt_at)
  WHERE state = 0;
