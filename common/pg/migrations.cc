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

// Applied version -> checksum, for a schema whose schema_migrations table exists.
std::map<int64_t, std::string> AppliedChecksums(pqxx::work& txn) {
  std::map<int64_t, std::string> checksums;
  for (const auto& row : txn.exec("SELECT version, checksum FROM schema_migrations")) {
    checksums.emplace(row[0].as<int64_t>(), row[1].as<std::string>());
  }
  return checksums;
}

// An edited migration would leave databases migrated before the edit different from new ones
// (and its inverse would undo something that was never applied); refusing makes that visible
// instead of silent.
absl::Status CheckUnchanged(pqxx::work& txn, const Migration& migration,
                            const std::string& checksum) {
  const auto row = txn.exec_params1("SELECT md5($1) = $2", migration.sql, checksum);
  if (row[0].as<bool>()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("migration ", migration.version, " (", migration.name,
                   ") was changed after it was applied; add a new migration instead"));
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
    const std::map<int64_t, std::string> checksums = AppliedChecksums(txn);
    for (const Migration& migration : migrations) {
      auto found = checksums.find(migration.version);
      if (found != checksums.end()) {
        if (absl::Status same = CheckUnchanged(txn, migration, found->second); !same.ok()) {
          return same;
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

absl::StatusOr<std::vector<int64_t>> RollbackMigrations(Database& db,
                                                        std::span<const Migration> migrations,
                                                        int64_t to_version,
                                                        MigrationOptions options) {
  if (absl::Status valid = ValidateOrder(migrations); !valid.ok()) return valid;
  if (to_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot roll back to version ", to_version, "; 0 undoes every migration"));
  }
  std::map<int64_t, const Migration*> by_version;
  for (const Migration& migration : migrations) by_version.emplace(migration.version, &migration);
  std::vector<int64_t> undone;
  absl::Status status = db.Transact([&](pqxx::work& txn) -> absl::Status {
    undone.clear();
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", options.lock_key);
    if (txn.exec1("SELECT to_regclass('schema_migrations') IS NULL")[0].as<bool>()) {
      return absl::OkStatus();  // never migrated: nothing to undo
    }
    const std::map<int64_t, std::string> checksums = AppliedChecksums(txn);
    // Every inverse is checked before the first one runs, so a refusal names the real obstacle
    // rather than whatever an earlier inverse left behind.
    std::vector<const Migration*> to_undo;
    for (auto it = checksums.rbegin(); it != checksums.rend() && it->first > to_version; ++it) {
      auto found = by_version.find(it->first);
      if (found == by_version.end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "applied migration ", it->first,
            " is not one this binary knows; roll back with the release that added it"));
      }
      const Migration& migration = *found->second;
      if (absl::Status same = CheckUnchanged(txn, migration, it->second); !same.ok()) return same;
      if (migration.down_sql.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("migration ", migration.version, " (", migration.name,
                         ") has no inverse; cannot roll back past it"));
      }
      to_undo.push_back(&migration);
    }
    for (const Migration* migration : to_undo) {
      txn.exec(migration->down_sql);
      txn.exec_params("DELETE FROM schema_migrations WHERE version = $1", migration->version);
      undone.push_back(migration->version);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return undone;
}

}  // namespace klaxon::pg
