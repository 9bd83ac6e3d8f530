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
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The test migrations with an inverse for 0002 too, so everything can be undone.
std::vector<Migration> FullyReversibleMigrations() {
  std::vector<Migration> migrations = TestdataMigrations();
  migrations[1].down_sql = "ALTER TABLE widgets DROP COLUMN label";
  return migrations;
}

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

  // Columns and indexes of the public schema, other than schema_migrations, as one string.
  std::string Schema() {
    std::string schema;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     schema = txn.exec1(
                                     "SELECT coalesce(string_agg(item, E'\\n' ORDER BY item), '') "
                                     "FROM (SELECT concat_ws(' ', table_name, column_name, "
                                     "data_type, is_nullable, column_default) AS item "
                                     "FROM information_schema.columns WHERE table_schema = "
                                     "'public' AND table_name <> 'schema_migrations' "
                                     "UNION ALL SELECT indexdef FROM pg_indexes WHERE "
                                     "schemaname = 'public' AND tablename <> "
                                     "'schema_migrations') AS items")[0]
                                  .as<std::string>();
                     return absl::OkStatus();
                   })
                    .ok());
    return schema;
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

TEST_F(MigrationsPostgresTest, EmbedsEachMigrationsInverseFromTheDownDirectory) {
  const std::vector<Migration> migrations = TestdataMigrations();
  EXPECT_EQ(migrations[0].down_sql, "DROP TABLE widgets;\n");
  EXPECT_THAT(migrations[1].down_sql, IsEmpty());
  EXPECT_EQ(migrations[2].down_sql, "DROP INDEX widgets_label;\n");
}

TEST_F(MigrationsPostgresTest, RollbackUndoesVersionsAboveTargetAndReapplyingRestoresTheSchema) {
  ASSERT_TRUE(ApplyMigrations(*db_, TestdataMigrations()).ok());
  const std::string migrated = Schema();

  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, TestdataMigrations(), 2);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(*undone, ElementsAre(10));
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2));
  EXPECT_FALSE(TableExists("widgets_label"));

  absl::StatusOr<std::vector<int64_t>> reapplied = ApplyMigrations(*db_, TestdataMigrations());
  ASSERT_TRUE(reapplied.ok()) << reapplied.status();
  EXPECT_THAT(*reapplied, ElementsAre(10));
  EXPECT_EQ(Schema(), migrated);
}

TEST_F(MigrationsPostgresTest, RollbackToZeroUndoesNewestFirstAndLeavesNothing) {
  const std::vector<Migration> migrations = FullyReversibleMigrations();
  ASSERT_TRUE(ApplyMigrations(*db_, migrations).ok());
  const std::string migrated = Schema();

  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, migrations, 0);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(*undone, ElementsAre(10, 2, 1));
  EXPECT_THAT(RecordedVersions(), IsEmpty());
  EXPECT_THAT(Schema(), IsEmpty());

  ASSERT_TRUE(ApplyMigrations(*db_, migrations).ok());
  EXPECT_EQ(Schema(), migrated);
}

TEST_F(MigrationsPostgresTest, RollbackAtOrBelowTargetUndoesNothing) {
  ASSERT_TRUE(ApplyMigrations(*db_, TestdataMigrations()).ok());
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, TestdataMigrations(), 10);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(*undone, IsEmpty());
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2, 10));
}

TEST_F(MigrationsPostgresTest, RollbackOfAnUnmigratedDatabaseUndoesNothing) {
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, TestdataMigrations(), 0);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(*undone, IsEmpty());
}

TEST_F(MigrationsPostgresTest, RollbackPastAMigrationWithoutInverseIsFailedPreconditionNamingIt) {
  ASSERT_TRUE(ApplyMigrations(*db_, TestdataMigrations()).ok());
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, TestdataMigrations(), 0);
  EXPECT_EQ(undone.status().code(), absl::StatusCode::kFailedPrecondition) << undone.status();
  EXPECT_THAT(undone.status().message(), HasSubstr("0002_add_label.sql"));
  // Nothing was undone, not even 0010 above it.
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2, 10));
  EXPECT_TRUE(TableExists("widgets_label"));
}

TEST_F(MigrationsPostgresTest, RollbackOfAChangedMigrationIsFailedPrecondition) {
  std::vector<Migration> migrations = TestdataMigrations();
  ASSERT_TRUE(ApplyMigrations(*db_, migrations).ok());
  migrations[2].sql = "CREATE INDEX widgets_label ON widgets (label, id)";
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, migrations, 2);
  EXPECT_EQ(undone.status().code(), absl::StatusCode::kFailedPrecondition) << undone.status();
  EXPECT_THAT(RecordedVersions(), ElementsAre(1, 2, 10));
}

TEST_F(MigrationsPostgresTest, RollbackOfAMigrationTheBinaryDoesNotKnowIsFailedPrecondition) {
  ASSERT_TRUE(ApplyMigrations(*db_, TestdataMigrations()).ok());
  std::vector<Migration> older = TestdataMigrations();
  older.pop_back();
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, older, 1);
  EXPECT_EQ(undone.status().code(), absl::StatusCode::kFailedPrecondition) << undone.status();
  EXPECT_THAT(undone.status().message(), HasSubstr("10"));
}

TEST_F(MigrationsPostgresTest, RollbackToNegativeVersionIsInvalidArgument) {
  absl::StatusOr<std::vector<int64_t>> undone = RollbackMigrations(*db_, TestdataMigrations(), -1);
  EXPECT_EQ(undone.status().code(), absl::StatusCode::kInvalidArgument) << undone.status();
}

TEST_F(MigrationsPostgresTest, ConcurrentRollbacksUndoEachMigrationOnce) {
  ASSERT_TRUE(ApplyMigrations(*db_, FullyReversibleMigrations()).ok());
  constexpr size_t kRunners = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (size_t i = 0; i < kRunners; ++i) dbs.push_back(Connect());
  std::vector<absl::StatusOr<std::vector<int64_t>>> results(kRunners);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kRunners; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = RollbackMigrations(*dbs[i], FullyReversibleMigrations(), 1); });
  }
  for (std::thread& thread : threads) thread.join();
  size_t total_undone = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    total_undone += result->size();
  }
  EXPECT_EQ(total_undone, 2u);
  EXPECT_THAT(RecordedVersions(), ElementsAre(1));
}

}  // namespace
}  // namespace klaxon::pg
