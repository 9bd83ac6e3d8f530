// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// Audit's migrations against their inverses: a broken or missing inverse fails here.
#include <memory>
#include <string>
#include <vector>

#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/postgres/audit_migrations.h"
#include "tests/support/support.h"

namespace klaxon::audit::migrations_postgres_test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Tables, columns, constraints, indexes and functions of the public schema, other than
// schema_migrations, as one sorted listing.
constexpr char kSchemaQuery[] = R"sql(
SELECT coalesce(string_agg(item, E'\n' ORDER BY item), '') FROM (
  SELECT concat_ws(' ', 'column', table_name, column_name, data_type, is_nullable,
                   column_default) AS item
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
  UNION ALL
  SELECT concat_ws(' ', 'constraint', conrelid::regclass::text, conname,
                   pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      AND conrelid <> 'schema_migrations'::regclass
  UNION ALL
  SELECT concat_ws(' ', 'index', indexdef) FROM pg_indexes
    WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
  UNION ALL
  SELECT concat_ws(' ', 'function', pg_get_functiondef(oid)) FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
) AS items
)sql";

class AuditMigrationsPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
    if (server.empty()) return;
    auto scratch = pg::testing::TemporaryDatabase::Create(server);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    auto db = pg::Database::Connect(scratch_->url());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }

  std::string Schema() {
    std::string schema;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     schema = txn.exec1(kSchemaQuery)[0].as<std::string>();
                     return absl::OkStatus();
                   })
                    .ok());
    return schema;
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
};

TEST_F(AuditMigrationsPostgresTest, EveryMigrationHasAnInverse) {
  for (const pg::Migration& migration : AuditMigrations()) {
    EXPECT_THAT(migration.down_sql, ::testing::Not(IsEmpty())) << migration.name;
  }
}

TEST_F(AuditMigrationsPostgresTest, RollingBackToZeroLeavesAnEmptySchema) {
  ASSERT_TRUE(pg::ApplyMigrations(*db_, AuditMigrations()).ok());
  absl::StatusOr<std::vector<int64_t>> undone = pg::RollbackMigrations(*db_, AuditMigrations(), 0);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_THAT(*undone, ElementsAre(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1));
  EXPECT_THAT(Schema(), IsEmpty());
}

TEST_F(AuditMigrationsPostgresTest, ReapplyingAfterRollbackToZeroGivesTheSameSchema) {
  ASSERT_TRUE(pg::ApplyMigrations(*db_, AuditMigrations()).ok());
  const std::string migrated = Schema();
  ASSERT_FALSE(migrated.empty());
  ASSERT_TRUE(pg::RollbackMigrations(*db_, AuditMigrations(), 0).ok());
  absl::StatusOr<std::vector<int64_t>> reapplied = pg::ApplyMigrations(*db_, AuditMigrations());
  ASSERT_TRUE(reapplied.ok()) << reapplied.status();
  EXPECT_EQ(Schema(), migrated);
}

// Each step down and up again restores the schema of that version.
TEST_F(AuditMigrationsPostgresTest, EachInverseRestoresThePreviousVersionsSchema) {
  const std::vector<pg::Migration> migrations = AuditMigrations();
  std::vector<std::string> schemas;  // schemas[i]: after migrations[0..i]
  for (size_t i = 0; i < migrations.size(); ++i) {
    ASSERT_TRUE(pg::ApplyMigrations(*db_, std::span(migrations).first(i + 1)).ok());
    schemas.push_back(Schema());
  }
  for (size_t i = migrations.size() - 1; i > 0; --i) {
    absl::StatusOr<std::vector<int64_t>> undone =
        pg::RollbackMigrations(*db_, migrations, migrations[i - 1].version);
    ASSERT_TRUE(undone.ok()) << migrations[i].name << ": " << undone.status();
    EXPECT_EQ(Schema(), schemas[i - 1]) << "after undoing " << migrations[i].name;
  }
}

}  // namespace
}  // namespace klaxon::audit::migrations_postgres_test
