// Spend budgets end to end (KLAXON_BUDGETS_FILE, ADR 0037) on the sandbox's prices (0.0079 USD an
// SMS segment to +1), with two sms-worker replicas sharing the budgets' counters. The caller "e2e"
// may spend 0.0237 USD a day, three single-segment alerts: SendAlert refuses its fourth with
// RESOURCE_EXHAUSTED naming the budget, while a critical alert still goes, and the cost GetAlert
// and GetDeliveryReport show is the sandbox's to the cent. An account's budget is the workers' to
// hold: a send that would pass it never reaches Twilio. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"
#include "tests/support/support.h"

namespace klaxon::e2e::budgets_test {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(90);
constexpr char kCallerBudget[] = R"({
  "currency": "USD", "exempt": "critical",
  "budgets": [{"name": "e2e-daily", "caller": "e2e", "period": "day", "limit": "0.0237"}],
  "prices": {"sms": {"+1": "0.0079", "*": "0.05"}, "voice": {"*": "0.014"}}})";
constexpr char kAccountBudget[] = R"({
  "currency": "USD",
  "budgets": [{"name": "default-daily", "account": "default", "period": "day", "limit": "0.02"}],
  "prices": {"sms": {"+1": "0.0079", "*": "0.05"}, "voice": {"*": "0.014"}}})";

class BudgetsE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  // Starts the suite with `budgets` as its budgets file.
  void Start(const char* budgets) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "budgets.json") << budgets;
    // Charges are read a second after each acceptance, so they settle the budget at once.
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.sms_workers = 2,
                      .env = {{"KLAXON_BUDGETS_FILE", (dir_ / "budgets.json").string()}},
                      .worker_env = {{"KLAXON_STATUS_CHECK_FIRST", "1s"}}}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The alert once GetAlert shows what its first attempt cost.
  alerts::v1::Alert WaitForCharge(const std::string& alert_id) {
    return e2e::WaitForCharge(*suite_.QueryStub(), alert_id, kWait);
  }

  int LedgerCount(const std::string& to) const {
    int count = 0;
    for (const nlohmann::json& entry : suite_.Ledger()) count += entry.value("to", "") == to;
    return count;
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / absl::StrCat("klaxon-budgets-", ::getpid());
  Suite suite_;
};

TEST_F(BudgetsE2eKafkaRedisPostgresTest, TheFourthAlertOfABudgetForThreeIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Start(kCallerBudget));
  const absl::Time from = absl::Now() - absl::Minutes(1);
  // Each is reserved (0.0079 USD) by whichever replica sends it before Twilio accepts it.
  std::vector<std::string> sent;
  for (int i = 1; i <= 3; ++i) {
    sent.push_back(suite_.SendAlert(
        SmsAlert(absl::StrCat("+1415555040", i), "disk full", absl::StrCat("budget-", i))));
    const alerts::v1::Alert alert =
        WaitForStatus(*suite_.QueryStub(), sent.back(), types::v1::ALERT_STATUS_DELIVERED, kWait);
    ASSERT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert.DebugString();
  }
  alerts::v1::SendAlertResponse response;
  const grpc::Status refused = suite_.IntakeStub()->SendAlert(
      Suite::CallContext().get(), SmsAlert("+14155550404", "disk full", "budget-4"), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("budget \"e2e-daily\" (0.0237 USD a day for caller e2e) has spent 0.0237 "
                        "USD; it resets at"));
  EXPECT_EQ(LedgerCount("+14155550404"), 0);
  // Ingress shows SREs the budget's spend beside its limit, read from Redis every 15 s.
  const std::string spent = R"(klaxon_budget_spent{budget="e2e-daily",currency="USD"})";
  EXPECT_TRUE(klaxon::testing::PollUntil(
      [&] {
        if (MetricValue(suite_.Metrics("ingress"), spent) == 0.0237) return true;
        absl::SleepFor(absl::Milliseconds(250));  // a scrape is not free on a loaded machine
        return false;
      },
      absl::Seconds(45)))
      << suite_.Metrics("ingress");
  EXPECT_EQ(MetricValue(suite_.Metrics("ingress"),
                        R"(klaxon_budget_limit{budget="e2e-daily",currency="USD"})"),
            0.0237);

  // A critical alert is exempt: sent, and its charge counts.
  alerts::v1::SendAlertRequest critical = SmsAlert("+14155550405", "disk full", "budget-5");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  sent.push_back(suite_.SendAlert(critical));

  // What each cost, read back from the sandbox: 0.0079 USD, to the cent and beyond.
  for (const std::string& id : sent) {
    EXPECT_EQ(WaitForCharge(id).attempts(0).charge().amount(), "0.0079") << id;
  }
  alerts::v1::GetDeliveryReportRequest period;
  *period.mutable_from() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(from));
  *period.mutable_before() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(absl::Now() + absl::Minutes(1)));
  alerts::v1::DeliveryReport report;
  ASSERT_TRUE(
      suite_.QueryStub()->GetDeliveryReport(Suite::CallContext().get(), period, &report).ok());
  ASSERT_EQ(report.costs_size(), 1) << report.DebugString();
  EXPECT_EQ(report.costs(0).amount(), "0.0316");
  EXPECT_EQ(report.costs(0).charged_attempts(), 4);
}

TEST_F(BudgetsE2eKafkaRedisPostgresTest, ASendThatWouldPassItsAccountsBudgetNeverReachesTwilio) {
  ASSERT_NO_FATAL_FAILURE(Start(kAccountBudget));
  const std::string first = suite_.SendAlert(SmsAlert("+14155550406", "disk full", "account-1"));
  EXPECT_EQ(WaitForCharge(first).attempts(0).charge().amount(), "0.0079");
  // Two segments more (0.0158) would pass 0.02. SendAlert takes it (an account's budget is the
  // send's, where the routing picks the account); the worker holds it until midnight UTC, or
  // dead-letters it when its time to live ends sooner.
  const std::string held =
      suite_.SendAlert(SmsAlert("+14155550407", std::string(161, 'a'), "account-2"));
  const alerts::v1::Alert alert =
      WaitForStatus(*suite_.QueryStub(), held, types::v1::ALERT_STATUS_WAITING, kWait);
  EXPECT_THAT(alert.status(),
              ::testing::AnyOf(types::v1::ALERT_STATUS_WAITING, types::v1::ALERT_STATUS_FAILED))
      << alert.DebugString();
  EXPECT_THAT(alert.reason(),
              HasSubstr("budget \"default-daily\" (0.02 USD a day for account default) has spent "
                        "0.0079 USD; it resets at"));
  EXPECT_THAT(alert.reason(), HasSubstr("(this send would cost about 0.0158 USD)"));
  EXPECT_EQ(LedgerCount("+14155550407"), 0);
}

}  // namespace
}  // namespace klaxon::e2e::budgets_test
