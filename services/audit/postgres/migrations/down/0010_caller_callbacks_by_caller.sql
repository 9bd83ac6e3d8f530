-- Undoes 0010_caller_callbacks_by_caller.sql.
DROP INDEX caller_callbacks_due_by_caller;
