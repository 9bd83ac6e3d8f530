-- Undoes 0006_caller_callbacks.sql.
DROP TABLE caller_callbacks;
ALTER TABLE alerts DROP COLUMN callback_url;
