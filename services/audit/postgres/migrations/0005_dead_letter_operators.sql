-- Operators and dead letters (docs/adr/0012-callers-and-operators.md): why the worker gave up
-- (cause, "deadline" or "max_attempts", so an operator can replay in bulk by cause) and who
-- replayed a dead letter (the caller itself or an operator). Dead letters stored before this
-- migration have cause ''. An operator's bulk replay walks pending dead letters of every caller
-- by time, which dead_letters_pending already orders.
ALTER TABLE dead_letters
  ADD COLUMN cause text NOT NULL DEFAULT '',
  ADD COLUMN replayed_by text;
