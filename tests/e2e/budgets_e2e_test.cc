// Spend budgets end to end (KLAXON_BUDGETS_FILE, ADR 0037) on the sandbox's prices (0.0079 USD an
// SMS segment to +1): the caller "e2e" may spend 0.02 USD a day. A send that would pass the budget
// waits for it to reset without reaching Twilio; a critical alert goes through and its charge,
// read back from the sandbox, counts; once the budget is spent, SendAlert refuses the caller with
// RESOURCE_EXHAUSTED naming the budget and when it resets. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(90);
constexpr char kBudgets[] = R"({
  "currency": "USD", "exempt": "critical",
  "budgets": [{"name": "e2e-daily", "caller": "e2e", "period": "day", "limit": "0.02"}],
  "prices": {"sms": {"+1": "0.0079", "*": "0.05"}, "voice": {"*": "0.014"}}})";

class BudgetsE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "budgets.json") << kBudgets;
    // Charges are read a second after each acceptance, so they settle the budget at once.
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.env = {{"KLAXON_BUDGETS_FILE", (dir_ / "budgets.json").string()}},
                      .worker_env = {{"KLAXON_STATUS_CHECK_FIRST", "1s"}}}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The alert once GetAlert shows what its first attempt cost.
  alerts::v1::Alert WaitForCharge(const std::string& alert_id) {
    const absl::Time give_up = absl::Now() + kWait;
    alerts::v1::Alert alert;
    while (absl::Now() < give_up) {
      alerts::v1::GetAlertRequest request;
      request.set_alert_id(alert_id);
      alert.Clear();
      if (suite_.QueryStub()->GetAlert(Suite::CallContext().get(), request, &alert).ok() &&
          alert.attempts_size() > 0 && alert.attempts(0).has_charge()) {
        return alert;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "no charge for " << alert_id << ": " << alert.DebugString();
    return alert;
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

TEST_F(BudgetsE2eKafkaRedisPostgresTest, ASpentBudgetHoldsSendsAndThenRefusesTheCaller) {
  // 0.0079 USD: within the budget, sent and charged.
  const std::string first = suite_.SendAlert(SmsAlert("+14155550401", "disk full", "budget-1"));
  EXPECT_EQ(WaitForCharge(first).attempts(0).charge().amount(), "0.0079");

  // Two segments (0.0158 more) would pass 0.02: it waits for midnight UTC, Twilio never called.
  const std::string held =
      suite_.SendAlert(SmsAlert("+14155550402", std::string(161, 'a'), "budget-2"));
  const alerts::v1::Alert waiting =
      WaitForStatus(*suite_.QueryStub(), held, types::v1::ALERT_STATUS_WAITING, kWait);
  EXPECT_EQ(waiting.status(), types::v1::ALERT_STATUS_WAITING) << waiting.DebugString();
  EXPECT_THAT(waiting.reason(), HasSubstr("budget \"e2e-daily\" (0.02 USD a day for caller e2e) "
                                          "has spent 0.0079 USD; it resets at"));
  EXPECT_EQ(LedgerCount("+14155550402"), 0);

  // A critical alert is exempt: sent, and its charge (0.0158) counts, spending the budget.
  alerts::v1::SendAlertRequest critical =
      SmsAlert("+14155550403", std::string(161, 'b'), "budget-3");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  EXPECT_EQ(WaitForCharge(suite_.SendAlert(critical)).attempts(0).charge().amount(), "0.0158");
  // The worker counts a charge once it has settled the budgets with it.
  const std::string spent =
      R"(klaxon_twilio_cost_total{account="default",caller="e2e",channel="sms",currency="USD"})";
  const absl::Time give_up = absl::Now() + kWait;
  while (MetricValue(suite_.Metrics("sms-worker"), spent) < 0.0237 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }

  // Spent: SendAlert refuses the caller, naming the budget and when it resets.
  alerts::v1::SendAlertResponse response;
  const grpc::Status refused = suite_.IntakeStub()->SendAlert(
      Suite::CallContext().get(), SmsAlert("+14155550404", "disk full", "budget-4"), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(
      refused.error_message(),
      HasSubstr("budget \"e2e-daily\" (0.02 USD a day for caller e2e) has spent 0.0237 USD"));
  EXPECT_EQ(LedgerCount("+14155550404"), 0);
}

}  // namespace
}  // namespace klaxon::e2e
