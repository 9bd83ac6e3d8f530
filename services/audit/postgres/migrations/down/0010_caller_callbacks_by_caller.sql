-- Undoes 0010_caller_callbacks_by_caller.sql.
CREATE INDEX caller_callbacks_due ON caller_callbacks (next_attempt_at) WHERE state = 0;
DROP INDEX caller_callbacks_due_by_caller;
