-- Caller callbacks (docs/adr/0028-caller-callbacks.md, "Revisited (29 Nov 2026)"): the outbox is a
-- queue whose pending share swings from none to tens of thousands of rows within a minute, faster
-- than autovacuum's ANALYZE follows. After one that found nothing pending, the planner took
-- `state = 0` to match about one row and answered each settled row's "the alert's next pending
-- change" by reading every pending row through caller_callbacks_due, so a settle's cost grew with
-- the backlog times its batch. The outbox's statements now reach an alert's rows by the primary
-- key only (no `state = 0` in them for a partial index to serve), and a claim finds due rows
-- through caller_callbacks_due_by_caller alone. caller_callbacks_due was kept for replicas of the
-- release before migration 0010; this release's statements do not read it.
DROP INDEX caller_callbacks_due;
