// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// klaxon-audit-admin run as a process, as the Kubernetes Job and CronJob run it.
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/pg/database.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/process.h"
#include "tests/support/support.h"

namespace klaxon::audit::admin_postgres_test {
namespace {

using ::testing::HasSubstr;

class AuditAdminPostgresTest : public ::testing::Test {
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
    env_ = klaxon::testing::SanitizerEnvironment();
    env_["KLAXON_PG_URL"] = scratch_->url();
    log_dir_ = std::filesystem::temp_directory_path() / absl::StrCat("audit-admin-", getpid());
    std::filesystem::create_directories(log_dir_);
  }

  void TearDown() override {
    if (!log_dir_.empty()) std::filesystem::remove_all(log_dir_);
  }

  // Runs klaxon-audit-admin with `args`; returns its exit code and leaves its output in output_.
  int Admin(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {KLAXON_AUDIT_ADMIN_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    klaxon::testing::ChildProcess admin(
        argv, env_, (log_dir_ / absl::StrCat("run-", ++runs_, ".log")).string());
    const std::optional<int> code = admin.WaitForExit(absl::Seconds(60));
    output_ = admin.Log();
    EXPECT_TRUE(code.has_value()) << "still running:\n" << output_;
    return code.value_or(-1);
  }

  // The JSON log line whose "event" is `event`.
  nlohmann::json LogLine(const std::string& event) {
    std::istringstream lines(output_);
    for (std::string line; std::getline(lines, line);) {
      if (!absl::StartsWith(line, "{")) continue;
      nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (json.is_object() && json.value("event", "") == event) return json;
    }
    ADD_FAILURE() << "no " << event << " line in:\n" << output_;
    return nlohmann::json::object();
  }

  int64_t Count(const std::string& sql) {
    int64_t count = -1;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     count = txn.exec1(sql)[0].as<int64_t>();
                     return absl::OkStatus();
                   })
                    .ok())
        << sql;
    return count;
  }

  void Exec(const std::string& sql) {
    ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     txn.exec(sql);
                     return absl::OkStatus();
                   })
                    .ok())
        << sql;
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::map<std::string, std::string> env_;
  std::filesystem::path log_dir_;
  int runs_ = 0;
  std::string output_;
};

TEST_F(AuditAdminPostgresTest, MigrateAppliesEveryMigration) {
  ASSERT_EQ(Admin({"migrate"}), 0) << output_;
  EXPECT_EQ(LogLine("schema_migrated")["applied_versions"],
            nlohmann::json({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), 12);
}

TEST_F(AuditAdminPostgresTest, RollbackToZeroThenMigrateRestoresTheSchema) {
  ASSERT_EQ(Admin({"migrate"}), 0) << output_;
  ASSERT_EQ(Admin({"rollback", "--to", "0"}), 0) << output_;
  EXPECT_EQ(LogLine("schema_rolled_back")["undone_versions"],
            nlohmann::json({12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_tables WHERE tablename = 'alerts'"), 0);

  ASSERT_EQ(Admin({"migrate"}), 0) << output_;
  EXPECT_EQ(Count("SELECT count(*) FROM schema_migrations"), 12);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_tables WHERE tablename = 'audit_events_default'"), 1);
}

TEST_F(AuditAdminPostgresTest, RetentionReportsWhatItRemoved) {
  ASSERT_EQ(Admin({"migrate"}), 0) << output_;
  Exec("SELECT audit_events_ensure_partition('2025-01-01')");
  Exec(
      "INSERT INTO audit_events (occurred_at, event_key, kind) VALUES "
      "('2025-01-10T00:00:00Z', 'e1', 'requested'), ('2025-01-11T00:00:00Z', 'e2', 'requested')");
  Exec(
      "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) VALUES "
      "('alerts/a1', 1, '\\x00', '2025-01-10T00:00:00Z')");

  ASSERT_EQ(Admin({"retention", "--now", "2025-06-01T00:00:00Z"}), 0) << output_;
  const nlohmann::json report = LogLine("retention_done")["report"];
  EXPECT_EQ(report["now"], "2025-06-01T00:00:00Z");
  EXPECT_EQ(report["partitions_dropped"], nlohmann::json({"audit_events_2025_01"}));
  EXPECT_EQ(report["events_removed"], 2);
  EXPECT_EQ(report["data_keys_shredded"], 1);
  EXPECT_EQ(
      report["partitions_created"],
      nlohmann::json({"audit_events_2025_06", "audit_events_2025_07", "audit_events_2025_08"}));
  EXPECT_THAT(output_, HasSubstr("data keys shredded: 1"));
  EXPECT_EQ(Count("SELECT count(*) FROM data_keys"), 0);
}

TEST_F(AuditAdminPostgresTest, RetentionDryRunChangesNothing) {
  ASSERT_EQ(Admin({"migrate"}), 0) << output_;
  Exec(
      "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) VALUES "
      "('alerts/a1', 1, '\\x00', '2025-01-10T00:00:00Z')");
  ASSERT_EQ(Admin({"retention", "--now", "2025-06-01T00:00:00Z", "--dry-run"}), 0) << output_;
  const nlohmann::json report = LogLine("retention_done")["report"];
  EXPECT_EQ(report["dry_run"], true);
  EXPECT_EQ(report["data_keys_shredded"], 1);
  EXPECT_EQ(Count("SELECT count(*) FROM data_keys"), 1);
}

TEST_F(AuditAdminPostgresTest, RetentionWithBadRetentionSettingExitsWith2) {
  env_["KLAXON_AUDIT_OPERATIONAL_RETENTION"] = "ninety days";
  EXPECT_EQ(Admin({"retention"}), 2) << output_;
  EXPECT_THAT(output_, HasSubstr("KLAXON_AUDIT_OPERATIONAL_RETENTION"));
}

TEST_F(AuditAdminPostgresTest, ComplianceRetentionShorterThanOperationalExitsWith2) {
  env_["KLAXON_AUDIT_OPERATIONAL_RETENTION"] = "2160h";
  env_["KLAXON_AUDIT_COMPLIANCE_RETENTION"] = "720h";
  EXPECT_EQ(Admin({"retention"}), 2) << output_;
  EXPECT_THAT(output_, HasSubstr("must not be shorter than KLAXON_AUDIT_OPERATIONAL_RETENTION"));
}

TEST_F(AuditAdminPostgresTest, RetentionWithBadNowExitsWith2) {
  EXPECT_EQ(Admin({"retention", "--now", "yesterday"}), 2) << output_;
}

}  // namespace
}  // namespace klaxon::audit::admin_postgres_test
