// klaxon-audit-migrate: applies audit's schema migrations and exits, for the Kubernetes Job that
// runs before a rollout. Reads only KLAXON_PG_URL (or KLAXON_PG_URL_FILE) and KLAXON_LOG_LEVEL.
// Exit codes: 0 migrated (or nothing to do), 1 migration failed, 2 bad configuration.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "common/pg/conninfo.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "services/audit/audit_migrations.h"

namespace klaxon::audit {
namespace {

constexpr char kService[] = "audit-migrate";

// This binary never logs a phone number, so its redaction key only has to be a valid one; a
// random key also makes any token it could produce unlinkable.
std::string RandomKey() {
  absl::BitGen random;
  std::string key(32, '\0');
  for (char& c : key) c = static_cast<char>(absl::Uniform<unsigned char>(random));
  return key;
}

int Run() {
  config::Reader reader(config::FromProcessEnvironment());
  const std::string pg_url = reader.Secret("KLAXON_PG_URL");
  const std::string level_name =
      reader.Enum("KLAXON_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  if (!pg_url.empty()) {
    if (absl::Status parsed = pg::ParseConninfo(pg_url).status(); !parsed.ok()) {
      reader.AddError("KLAXON_PG_URL", std::string(parsed.message()));
    }
  }
  config::ExitOnError(reader.Finish(), kService);

  auto redactor = log::PhoneRedactor::Create(RandomKey());
  config::ExitOnError(redactor.status(), kService);
  log::StdoutSink sink;
  const log::Logger logger(
      {.service = kService, .min_level = log::ParseLevel(level_name).value_or(log::Level::kInfo)},
      *std::move(redactor), sink);

  auto db = pg::Database::Connect(pg_url, {.max_connections = 1});
  if (!db.ok()) {
    logger.Error("migration_failed", {{"error", std::string(db.status().message())}});
    return 1;
  }
  absl::StatusOr<std::vector<int64_t>> applied = pg::ApplyMigrations(**db, AuditMigrations());
  if (!applied.ok()) {
    logger.Error("migration_failed", {{"error", std::string(applied.status().message())}});
    return 1;
  }
  logger.Info("schema_migrated", {{"applied_versions", *applied}});
  return 0;
}

}  // namespace
}  // namespace klaxon::audit

int main() { return klaxon::audit::Run(); }
