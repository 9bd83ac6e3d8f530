-- Undoes 0008_templates.sql.
ALTER TABLE alerts
  DROP COLUMN template_version,
  DROP COLUMN template_locale,
  DROP COLUMN template_name;
DROP TABLE template_defaults;
DROP TABLE templates;
