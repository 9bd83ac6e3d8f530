// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
#include <memory>
#include <thread>
#include <vector>

#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/support.h"

namespace klaxon::pg {

// Generated from common/pg/testdata/*.sql by klaxon_embed_migrations.
std::vector<Migration> TestdataMigrations();

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class MigrationsPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
    if (server.empty()) return;
    absl::StatusOr<std::unique_ptr<testing::TemporaryDatabase>> scratch =
        testing::TemporaryDatabase::Create(server);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    db_ = Connect();
  }

  std::unique_ptr<Database> Connect() {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Connect(scratch_->url());
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  std::vector<int64_t> RecordedVersions() {
    std::vector<int64_t> versions;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     for (const auto& row :
                          txn.exec("SELECT version FROM schema_migrations ORDER BY version")) {
                       versions.push_back(row[0].as<int64_t>());
                     }
                     return absl::OkStatus();
                   })
                    .ok());
    return versions;
  }

  bool TableExists(const std::string& table) {
    bool exists = false;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     exists =
                         !txn.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>();
                     return absl::OkStatus();
                   })
                    .ok());
    return exists;
  }

  std::unique_ptr<testing::TemporaryDatabase> scratch_;
  std::unique_ptr<Database> db_;
};

TEST_F(MigrationsPostgresTest, EmbeddedFilesComeInNumericVersionOrder) {
  std::vector<int64_t> versions;
  for (const Migration& migration : TestdataMigrations()) versions.push_back(migration.version);
  EXPECT_THAT(versions, ElementsAre(1, 2, 10));
  EXPECT_EQ(TestdataMigrations()[0].name, "0001_create_widgets.sql");
}

TEST_F(MigrationsPostgresTest, AppliesAllPendingMigrationsAndRecordsThem) {
  absl::StatusOr<std::vector<int64_t>> applied = ApplyMigrations(*db_, TestdataMigrations());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_THAT(*applied, ElementsAre(1, 2, 10));
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2, 10));
  EXPECT_TRUE(TableExists("widgets_label"));
}

TEST_F(MigrationsPostgresTest, SecondRunAppliesNothing) {
  ASSERT_TRUE(ApplyMigrations(*db_, TestdataMigrations()).ok());
  absl::StatusOr<std::vector<int64_t>> again = ApplyMigrations(*db_, TestdataMigrations());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(*again, IsEmpty());
}

TEST_F(MigrationsPostgresTest, AppliesOnlyMigrationsAddedSinceLastRun) {
  std::vector<Migration> migrations = TestdataMigrations();
  ASSERT_TRUE(ApplyMigrations(*db_, std::span(migrations).first(1)).ok());
  absl::StatusOr<std::vector<int64_t>> rest = ApplyMigrations(*db_, migrations);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(*rest, ElementsAre(2, 10));
}

TEST_F(MigrationsPostgresTest, FailingMigrationRollsBackEveryPendingOne) {
  std::vector<Migration> migrations = TestdataMigrations();
  migrations.push_back({.version = 11, .name = "0011_broken.sql", .sql = "CREATE TABLE ("});
  absl::StatusOr<std::vector<int64_t>> applied = ApplyMigrations(*db_, migrations);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInternal) << applied.status();
  EXPECT_FALSE(TableExists("widgets"));
  EXPECT_FALSE(TableExists("schema_migrations"));
}

TEST_F(MigrationsPostgresTest, ChangedAppliedMigrationIsFailedPrecondition) {
  std::vector<Migration> migrations = TestdataMigrations();
  ASSERT_TRUE(ApplyMigrations(*db_, migrations).ok());
  migrations[1].sql = "ALTER TABLE widgets ADD COLUMN other text";
  absl::StatusOr<std::vector<int64_t>> applied = ApplyMigrations(*db_, migrations);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition) << applied.status();
}

TEST_F(MigrationsPostgresTest, VersionsOutOfOrderAreInvalidArgument) {
  std::vector<Migration> migrations = TestdataMigrations();
  std::swap(migrations[0], migrations[1]);
  absl::StatusOr<std::vector<int64_t>> applied = ApplyMigrations(*db_, migrations);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInvalidArgument) << applied.status();
  EXPECT_FALSE(TableExists("schema_migrations"));
}

TEST_F(MigrationsPostgresTest, ConcurrentRunnersApplyEachMigrationOnce) {
  constexpr size_t kRunners = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (size_t i = 0; i < kRunners; ++i) dbs.push_back(Connect());
  std::vector<absl::StatusOr<std::vector<int64_t>>> results(kRunners);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] { results[i] = ApplyMigrations(*dbs[i], TestdataMigrations()); });
  }
  for (std::thread& thread : threads) thread.join();
  size_t total_applied = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    total_applied += result->size();
  }
  EXPECT_EQ(total_applied, 3u);
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2, 10));
}

}  // namespace
}  // namespace klaxon::pg
