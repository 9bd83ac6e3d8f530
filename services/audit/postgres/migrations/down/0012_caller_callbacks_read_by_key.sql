-- Undoes 0012_caller_callbacks_read_by_key.sql.
CREATE INDEX caller_callbacks_due ON caller_callbacks (next_attempt_at) WHERE state = 0;
