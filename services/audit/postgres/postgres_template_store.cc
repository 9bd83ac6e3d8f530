#include "services/audit/postgres/postgres_template_store.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/pg/prepared_statement.h"

namespace klaxon::audit {
namespace {

// The first locale stored under a name becomes its default; a create with default_locale ($4)
// moves it. The update also runs when nothing changes, so the row is locked either way.
constexpr pg::PreparedStatement kUpsertDefault{
    "klaxon_audit_upsert_template_default",
    "INSERT INTO template_defaults (caller, name, locale) VALUES ($1, $2, $3) "
    "ON CONFLICT (caller, name) DO UPDATE SET locale = "
    "  CASE WHEN $4::boolean THEN EXCLUDED.locale ELSE template_defaults.locale END "
    "RETURNING locale"};

// One caller's creates in turn, so the counts below hold until the insert: a two-key advisory
// lock of its own class (7301; the alerts' locks are class "audt", alert_locks.cc).
constexpr pg::PreparedStatement kLockCaller{"klaxon_audit_lock_template_caller",
                                            "SELECT pg_advisory_xact_lock(7301, hashtext($1))"};

// How many templates (name, locale) the caller keeps, and how many versions of this one.
constexpr pg::PreparedStatement kCountKept{
    "klaxon_audit_count_templates",
    "SELECT (SELECT count(*) FROM (SELECT DISTINCT name, locale FROM templates "
    "                              WHERE caller = $1) kept), "
    "       (SELECT count(*) FROM templates WHERE caller = $1 AND name = $2 AND locale = $3)"};

// Timestamps cross the wire as integer microseconds since the epoch.
constexpr pg::PreparedStatement kInsertVersion{
    "klaxon_audit_insert_template",
    "INSERT INTO templates (caller, name, locale, version, sms_text, voice_script, voice_name, "
    "  language) "
    "SELECT $1, $2, $3, COALESCE(max(version), 0) + 1, $4, $5, $6, $7 "
    "FROM templates WHERE caller = $1 AND name = $2 AND locale = $3 "
    "RETURNING version, (extract(epoch FROM created_at) * 1000000)::bigint"};

// Each template with whether its locale is its name's default (templates `t` joined with its
// template_defaults row `d`); the reads below add their WHERE and ORDER BY clauses.
constexpr char kTemplateColumns[] =
    "t.name, t.locale, t.version, t.sms_text, t.voice_script, t.voice_name, t.language, "
    "(extract(epoch FROM t.created_at) * 1000000)::bigint, t.locale = d.locale "
    "FROM templates t JOIN template_defaults d ON d.caller = t.caller AND d.name = t.name ";

// The latest version of each locale, in bytewise order (COLLATE "C") as the port promises,
// whatever the database's collation.
const pg::PreparedStatement& SelectList() {
  static const std::string* const sql = new std::string(absl::StrCat(
      "SELECT DISTINCT ON (t.name COLLATE \"C\", t.locale COLLATE \"C\") ", kTemplateColumns,
      "WHERE t.caller = $1 AND ($2 = '' OR t.name = $2) "
      "ORDER BY t.name COLLATE \"C\", t.locale COLLATE \"C\", t.version DESC"));
  static const pg::PreparedStatement statement("klaxon_audit_list_templates", *sql);
  return statement;
}

// The asked-for locale's versions sort before the default's; a locale the name lacks (or '')
// leaves only the default's.
const pg::PreparedStatement& SelectLatest() {
  static const std::string* const sql = new std::string(
      absl::StrCat("SELECT ", kTemplateColumns,
                   "WHERE t.caller = $1 AND t.name = $2 AND t.locale IN ($3, d.locale) "
                   "ORDER BY t.locale = $3 DESC, t.version DESC LIMIT 1"));
  static const pg::PreparedStatement statement("klaxon_audit_latest_template", *sql);
  return statement;
}

MessageTemplate TemplateFromRow(const pqxx::row& row) {
  return {.name = row[0].as<std::string>(),
          .locale = row[1].as<std::string>(),
          .version = row[2].as<uint32_t>(),
          .sms_text = row[3].as<std::string>(),
          .voice_script = row[4].as<std::string>(),
          .voice_name = row[5].as<std::string>(),
          .language = row[6].as<std::string>(),
          .default_locale = row[8].as<bool>(),
          .created_at = absl::FromUnixMicros(row[7].as<int64_t>())};
}

}  // namespace

absl::StatusOr<MessageTemplate> PostgresTemplateStore::Create(std::string_view caller,
                                                              const MessageTemplate& created) {
  MessageTemplate stored = created;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    kLockCaller.Exec(txn, std::string(caller));
    const pqxx::row kept =
        kCountKept.Exec(txn, std::string(caller), created.name, created.locale).at(0);
    const auto versions = kept[1].as<size_t>();
    if (versions == 0 && kept[0].as<size_t>() >= kMaxTemplatesPerCaller) {
      return TooManyTemplates();
    }
    if (versions >= kMaxVersionsPerTemplate) return TooManyVersions(created.name, created.locale);
    // From here on, concurrent creates of this name wait for this transaction.
    const pqxx::row default_locale =
        kUpsertDefault
            .Exec(txn, std::string(caller), created.name, created.locale, created.default_locale)
            .at(0);
    const pqxx::row inserted =
        kInsertVersion
            .Exec(txn, std::string(caller), created.name, created.locale, created.sms_text,
                  created.voice_script, created.voice_name, created.language)
            .at(0);
    stored.default_locale = default_locale[0].as<std::string>() == created.locale;
    stored.version = inserted[0].as<uint32_t>();
    stored.created_at = absl::FromUnixMicros(inserted[1].as<int64_t>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return stored;
}

absl::StatusOr<std::vector<MessageTemplate>> PostgresTemplateStore::List(std::string_view caller,
                                                                         std::string_view name) {
  std::vector<MessageTemplate> listed;
  // One statement, so one round trip: no transaction around it.
  absl::Status status = db_.Autocommit([&](pqxx::nontransaction& txn) {
    for (const pqxx::row row : SelectList().Exec(txn, std::string(caller), std::string(name))) {
      listed.push_back(TemplateFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return listed;
}

absl::StatusOr<std::optional<MessageTemplate>> PostgresTemplateStore::Latest(
    std::string_view caller, std::string_view name, std::string_view locale) {
  std::optional<MessageTemplate> latest;
  absl::Status status = db_.Autocommit([&](pqxx::nontransaction& txn) {
    const pqxx::result rows =
        SelectLatest().Exec(txn, std::string(caller), std::string(name), std::string(locale));
    if (!rows.empty()) latest = TemplateFromRow(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return latest;
}

}  // namespace klaxon::audit
