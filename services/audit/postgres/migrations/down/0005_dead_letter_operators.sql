-- Undoes 0005_dead_letter_operators.sql.
ALTER TABLE dead_letters
  DROP COLUMN replayed_by,
  DROP COLUMN cause;
