-- Undoes 0001_create_alerts.sql: the projection and the consumer's progress are gone.
DROP TABLE consumer_progress;
DROP TABLE attempts;
DROP TABLE alerts;
