#pragma once

#include <memory>
#include <string>

#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gtest/gtest.h"
#include "services/audit/postgres/audit_migrations.h"
#include "tests/support/support.h"

namespace klaxon::audit::testing {

// Creates a scratch database on KLAXON_TEST_PG_URL, connects *db to it with `options` and applies
// AuditMigrations(). Call it from SetUp() as
//   ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
// A variable that is unset fails the test (RequiredEnv) and leaves both pointers empty.
inline void MigratedAuditDatabase(std::unique_ptr<pg::testing::TemporaryDatabase>* scratch,
                                  std::unique_ptr<pg::Database>* db,
                                  pg::DatabaseOptions options = {}) {
  const std::string server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
  if (server.empty()) return;
  absl::StatusOr<std::unique_ptr<pg::testing::TemporaryDatabase>> created =
      pg::testing::TemporaryDatabase::Create(server);
  ASSERT_TRUE(created.ok()) << created.status();
  *scratch = *std::move(created);
  absl::StatusOr<std::unique_ptr<pg::Database>> connected =
      pg::Database::Connect((*scratch)->url(), options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  *db = *std::move(connected);
  absl::StatusOr<std::vector<int64_t>> applied = pg::ApplyMigrations(**db, AuditMigrations());
  ASSERT_TRUE(applied.ok()) << applied.status();
}

}  // namespace klaxon::audit::testing
