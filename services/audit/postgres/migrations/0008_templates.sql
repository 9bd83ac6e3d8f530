-- Message templates (ADR 0030): each caller's SMS texts and voice scripts with {{placeholders}},
-- by name and locale. A template is never changed: CreateTemplate adds the next version of its
-- name and locale, so the (name, locale, version) an alert records names exactly the text it was
-- rendered from.
--
-- Templates hold no personal data: they name no recipient, and callers must keep personal data
-- out of them (it belongs in SendAlert's parameters, which are never stored here). So they are
-- stored in plaintext, kept for as long as their caller keeps them, and left alone by retention
-- and crypto-shredding.
CREATE TABLE templates (
  caller text NOT NULL,
  name text NOT NULL,
  locale text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  sms_text text NOT NULL DEFAULT '',
  voice_script text NOT NULL DEFAULT '',
  voice_name text NOT NULL DEFAULT '',
  language text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller, name, locale, version)
);

-- Each template's default locale: the one rendered when SendAlert names no locale or one the
-- template lacks. Written with the template's first version (its first locale) and moved by a
-- CreateTemplate that asks for it. Its row is also what concurrent creates of one name queue on.
CREATE TABLE template_defaults (
  caller text NOT NULL,
  name text NOT NULL,
  locale text NOT NULL,
  PRIMARY KEY (caller, name)
);

-- The template an alert's text came from; rows stored before this migration, and alerts sent
-- with a text of their own, have none ('', '' and 0).
ALTER TABLE alerts
  ADD COLUMN template_name text NOT NULL DEFAULT '',
  ADD COLUMN template_locale text NOT NULL DEFAULT '',
  ADD COLUMN template_version integer NOT NULL DEFAULT 0;
