#pragma once
// Schema migrations. Each service ships its SQL files compiled into its binaries (see
// klaxon_embed_migrations in common/pg/CMakeLists.txt) and applies them at start, or from a
// Kubernetes Job, with ApplyMigrations; RollbackMigrations undoes them through their inverses
// (migrations/down/<same file name>). Concurrent runners are serialised by a Postgres advisory
// lock, so several replicas starting together apply each migration exactly once.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/pg/database.h"

namespace klaxon::pg {

struct Migration {
  int64_t version = 0;  // from the file name, 0001_create_alerts.sql -> 1
  std::string name;     // the file name, recorded for people reading schema_migrations
  std::string sql;      // may hold several statements; must be able to run inside a transaction
  // The inverse of `sql` (same rules), or empty when the migration cannot be rolled back.
  std::string down_sql;
};

struct MigrationOptions {
  // The pg_advisory_xact_lock key that serialises runners of one schema.
  int64_t lock_key = 0x6b6c61786f6e;  // "klaxon"
};

// Applies every migration not yet recorded in schema_migrations, in version order, inside ONE
// transaction holding the advisory lock: either all pending migrations apply or none does.
// Running it again is a no-op. Returns the versions it applied.
//   kInvalidArgument     versions not strictly increasing and positive
//   kFailedPrecondition  an applied migration's SQL has changed since it was applied
//   kUnavailable         Postgres is unreachable (retry)
absl::StatusOr<std::vector<int64_t>> ApplyMigrations(Database& db,
                                                     std::span<const Migration> migrations,
                                                     MigrationOptions options = {});

// Undoes every applied migration whose version is above `to_version`, newest first, by running
// its down_sql and removing its schema_migrations row, inside ONE transaction holding the same
// advisory lock: either all of them are undone or none is. Returns the versions undone (none
// when the schema is already at or below `to_version`).
//   kInvalidArgument     versions not strictly increasing and positive, or to_version < 0
//   kFailedPrecondition  a migration to undo has no inverse, is not in `migrations`, or its SQL
//                        has changed since it was applied; also when the inverse fails on the
//                        data (e.g. rows an older constraint refuses)
//   kUnavailable         Postgres is unreachable (retry)
absl::StatusOr<std::vector<int64_t>> RollbackMigrations(Database& db,
                                                        std::span<const Migration> migrations,
                                                        int64_t to_version,
                                                        MigrationOptions options = {});

}  // namespace klaxon::pg
