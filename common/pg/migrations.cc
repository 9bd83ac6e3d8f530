#include "common/pg/migrations.h"

#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::pg {
namespace {

absl::Status ValidateOrder(std::span<const Migration> migrations) {
  int64_t previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration ", migration.name, " has version ", migration.version,
                       "; versions must be positive and strictly increasing"));
    }
    previous = migration.version;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> ApplyMigrations(Database& db,
                                                     std::span<const Migration> migrations,
                                                     MigrationOptions options) {
  if (absl::Status valid = ValidateOrder(migrations); !valid.ok()) return valid;
  std::vector<int64_t> applied_now;
  absl::Status status = db.Transact([&](pqxx::work& txn) -> absl::Status {
    applied_now.clear();
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", options.lock_key);
    txn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "  version bigint PRIMARY KEY,"
        "  name text NOT NULL,"
        "  checksum text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now())");
    std::map<int64_t, std::string> checksums;
    for (const auto& row : txn.exec("SELECT version, checksum FROM schema_migrations")) {
      checksums.emplace(row[0].as<int64_t>(), row[1].as<std::string>());
    }
    for (const Migration& migration : migrations) {
      auto found = checksums.find(migration.version);
      if (found != checksums.end()) {
        // An edited migration would leave databases migrated before the edit different from new
        // ones; refusing to start makes that visible instead of silent.
        const auto row = txn.exec_params1("SELECT md5($1) = $2", migration.sql, found->second);
        if (!row[0].as<bool>()) {
          return absl::FailedPreconditionError(
              absl::StrCat("migration ", migration.version, " (", migration.name,
                           ") was changed after it was applied; add a new migration instead"));
        }
        continue;
      }
      txn.exec(migration.sql);
      txn.exec_params(
          "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
          migration.version, migration.name, migration.sql);
      applied_now.push_back(migration.version);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied_now;
}

}  // namespace klaxon::pg
