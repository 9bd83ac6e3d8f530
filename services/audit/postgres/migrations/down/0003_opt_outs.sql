-- Undoes 0003_opt_outs.sql: every recipient's recorded consent is gone.
DROP TABLE opt_outs;
