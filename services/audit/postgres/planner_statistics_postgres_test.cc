// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// PlannerStatistics on audit's schema: a statement prepared while caller_callbacks was empty
// reads it by key once the table has grown and been analyzed.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/pg/database.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/postgres/planner_statistics.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit {

// How a failure shows an analyzed table.
void PrintTo(const AnalyzedTable& table, std::ostream* out) {
  *out << table.name << " (" << table.live_rows << " live rows)";
}

namespace planner_statistics_postgres_test {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The shape of audit's batch statements (the callback settle, the projection writes): a batch
// arrives as a JSON recordset and meets the table by its primary key.
constexpr char kSettleShape[] =
    "UPDATE caller_callbacks c SET attempts = c.attempts + 1 "
    "FROM jsonb_to_recordset($1::jsonb) AS s(alert_id text, sequence integer) "
    "WHERE c.alert_id = s.alert_id::uuid AND c.sequence = s.sequence AND c.finished_at IS NULL";

class PlannerStatisticsPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    // Only the code under test analyzes these tables; autovacuum could otherwise come first.
    Exec("ALTER TABLE alerts SET (autovacuum_enabled = false)");
    Exec("ALTER TABLE caller_callbacks SET (autovacuum_enabled = false)");
  }

  void Exec(const std::string& sql) {
    absl::Status status = db_->Transact([&](pqxx::work& txn) {
      txn.exec(sql);
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status << "\n" << sql;
  }

  // Adds `count` alerts, each with one pending callback when `with_callbacks`.
  void AddAlerts(int count, bool with_callbacks) {
    Exec(absl::StrCat(
        "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
        "created_at, updated_at, status_at) "
        "SELECT gen_random_uuid(), 'billing', 1, 1, 1, true, now(), now(), now() "
        "FROM generate_series(1, ",
        count, ")"));
    if (!with_callbacks) return;
    Exec(
        "INSERT INTO caller_callbacks (alert_id, sequence, caller, channel, status, attempt, "
        "  twilio_error_code, reason, occurred_at, next_attempt_at) "
        "SELECT alert_id, 1, caller, 1, 1, 1, 0, '', now(), now() FROM alerts");
  }

  int64_t LiveRows(const std::string& table) {
    int64_t rows = -1;
    EXPECT_TRUE(db_->Autocommit([&](pqxx::nontransaction& txn) {
                     rows = txn.exec_params1(
                                   "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = $1",
                                   table)[0]
                                .as<int64_t>();
                     return absl::OkStatus();
                   })
                    .ok());
    return rows;
  }

  // The cumulative statistics learn of committed rows when the writing backend reports them,
  // about a second later.
  void AwaitLiveRows(const std::string& table, int64_t rows) {
    ASSERT_TRUE(
        klaxon::testing::PollUntil([&] { return LiveRows(table) == rows; }, absl::Seconds(20)))
        << table << " has " << LiveRows(table) << " live rows in the statistics, not " << rows;
  }

  std::vector<AnalyzedTable> AnalyzeOutgrown(PlannerStatisticsOptions options = {}) {
    absl::StatusOr<std::vector<AnalyzedTable>> analyzed =
        PlannerStatistics(*db_, options).AnalyzeOutgrownTables();
    EXPECT_TRUE(analyzed.ok()) << analyzed.status();
    return analyzed.value_or(std::vector<AnalyzedTable>{});
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
};

std::string ExplainSettle(pqxx::connection& connection) {
  pqxx::nontransaction txn(connection);
  std::string plan;
  for (const auto& row : txn.exec("EXPLAIN EXECUTE settle_shape('[]')")) {
    absl::StrAppend(&plan, row[0].c_str(), "\n");
  }
  return plan;
}

TEST_F(PlannerStatisticsPostgresTest, AStatementPreparedOnAnEmptyTableReadsItByKeyOnceAnalyzed) {
  pqxx::connection connection(scratch_->url());
  connection.prepare("settle_shape", kSettleShape);
  for (int run = 0; run < 6; ++run) {  // past the five custom plans: the generic plan is kept
    pqxx::nontransaction txn(connection);
    txn.exec_prepared("settle_shape", "[]");
  }
  AddAlerts(20000, /*with_callbacks=*/true);
  ASSERT_NO_FATAL_FAILURE(AwaitLiveRows("caller_callbacks", 20000));
  ASSERT_THAT(ExplainSettle(connection), HasSubstr("Seq Scan on caller_callbacks"))
      << "the planner no longer scans a never-analyzed table here; this test shows nothing";

  EXPECT_THAT(AnalyzeOutgrown(), ElementsAre(AllOf(Field(&AnalyzedTable::name, "alerts"),
                                                   Field(&AnalyzedTable::live_rows, 20000)),
                                             AllOf(Field(&AnalyzedTable::name, "caller_callbacks"),
                                                   Field(&AnalyzedTable::live_rows, 20000))));

  const std::string plan = ExplainSettle(connection);
  EXPECT_THAT(plan, HasSubstr("Index Scan using caller_callbacks_pkey"));
  EXPECT_THAT(plan, Not(HasSubstr("Seq Scan on caller_callbacks")));
  EXPECT_THAT(AnalyzeOutgrown(), IsEmpty()) << "analyzed again without having grown";
}

TEST_F(PlannerStatisticsPostgresTest, LeavesSmallTablesAndTablesWhoseStatisticsKeepUp) {
  AddAlerts(1500, /*with_callbacks=*/true);
  // Counted first: rows reported after the ANALYZE would be added to the count it leaves.
  ASSERT_NO_FATAL_FAILURE(AwaitLiveRows("caller_callbacks", 1500));
  Exec("ANALYZE caller_callbacks");  // as autovacuum would, at 1,500 rows
  AddAlerts(999, /*with_callbacks=*/false);
  ASSERT_NO_FATAL_FAILURE(AwaitLiveRows("alerts", 2499));
  Exec(
      "INSERT INTO caller_callbacks (alert_id, sequence, caller, channel, status, attempt, "
      "  twilio_error_code, reason, occurred_at, next_attempt_at) "
      "SELECT alert_id, 2, caller, 1, 1, 1, 0, '', now(), now() FROM caller_callbacks "
      "WHERE sequence = 1 LIMIT 1499");  // 2,999 rows: short of twice the 1,500 counted
  ASSERT_NO_FATAL_FAILURE(AwaitLiveRows("caller_callbacks", 2999));

  EXPECT_THAT(AnalyzeOutgrown({.min_rows = 2500}), IsEmpty())
      << "alerts has 2,499 rows, below the minimum; caller_callbacks has not doubled";
  EXPECT_THAT(AnalyzeOutgrown({.min_rows = 2499}),
              ElementsAre(Field(&AnalyzedTable::name, "alerts")));
}

}  // namespace
}  // namespace planner_statistics_postgres_test
}  // namespace klaxon::audit
