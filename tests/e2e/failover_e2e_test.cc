// Account failover end to end (ADR 0035): SMS routed over two Twilio accounts, "main" first. The
// sandbox answers 503 to everything sent on main for kOutage; main's circuit breaker opens after
// three failures, the alerts sent meanwhile (and the retries of those that failed) are delivered
// through "backup", and once the outage ends the breaker's probe finds main again and closes it.
// Every alert ends DELIVERED, none is accepted by both accounts, and the sms-worker's metric and
// log show the breaker opening and closing. (The issue's 60 s outage is kOutage here, with a
// cool-down to match; the behaviour does not depend on the length.)
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::failover_test {
namespace {

constexpr const char* kMainAccount = Suite::kAccountSid;
constexpr char kBackupAccount[] = "AC11111111111111111111111111111111";
constexpr char kMainSender[] = "+14155552671";
constexpr char kBackupSender[] = "+14155552672";
constexpr absl::Duration kOutage = absl::Seconds(10);
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr int kDuringOutage = 10;
constexpr int kAfterOutage = 4;

class FailoverE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    std::ofstream(Path("main-token")) << "sandbox-token";
    std::ofstream(Path("backup-token")) << "backup-token";
    std::ofstream(Path("accounts.json"))
        << absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": ")", kMainAccount,
                        R"(", "auth_token_file": ")", Path("main-token"),
                        R"("}, {"name": "backup", )", R"("account_sid": ")", kBackupAccount,
                        R"(", "auth_token_file": ")", Path("backup-token"), R"("}]})");
    std::ofstream(Path("routing.json")) << absl::StrCat(
        R"({"rules": [{"name": "all", "channels": ["sms"], "accounts": ["main", "backup"], )",
        R"("senders": [")", kMainSender, R"(", ")", kBackupSender, R"("]}, )",
        R"({"name": "calls", "channels": ["voice"], "senders": [")", kMainSender, R"("]}]})");
    ASSERT_NO_FATAL_FAILURE(suite_.Start(
        {.env = {{"KLAXON_SMS_SENDERS",
                  absl::StrCat(kMainSender, "@main,", kBackupSender, "@backup")},
                 {"KLAXON_VOICE_SENDERS", absl::StrCat(kMainSender, "@main")},
                 {"KLAXON_ROUTING_FILE", Path("routing.json")},
                 {"KLAXON_TWILIO_ACCOUNTS_FILE", Path("accounts.json")},
                 {"KLAXON_TWILIO_ACCOUNT_SID", ""},
                 {"KLAXON_TWILIO_AUTH_TOKEN", ""},
                 {"TWILIO_SANDBOX_ACCOUNTS", absl::StrCat(kBackupAccount, "=backup-token")}},
         .worker_env = {{"KLAXON_ACCOUNT_BREAKER_FAILURES", "3"},
                        {"KLAXON_ACCOUNT_BREAKER_COOL_DOWN", "3s"},
                        {"KLAXON_RETRY_BASE", "200ms"}}}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::string Send(const std::string& recipient) {
    return suite_.SendAlert(SmsAlert(recipient, "failover", "failover-" + recipient));
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / absl::StrCat("klaxon-failover-", ::getpid());
  Suite suite_;
};

TEST_F(FailoverE2eKafkaRedisPostgresTest, SendsMoveToTheBackupAccountAndBackAfterTheOutage) {
  suite_.AddSandboxFaults(absl::StrCat(R"({"type": "server_error", "status": 503, "account": ")",
                                       kMainAccount, R"("})"));
  std::map<std::string, std::string> alerts;  // recipient -> alert id
  const absl::Time outage_started = absl::Now();
  for (int i = 0; i < kDuringOutage; ++i) {
    const std::string recipient = absl::StrCat("+1415555200", i);
    alerts[recipient] = Send(recipient);
    absl::SleepFor(absl::Milliseconds(300));
  }
  absl::SleepFor(kOutage - (absl::Now() - outage_started));
  suite_.ClearSandboxFaults();
  // Past the cool-down the next send is main's probe, which now succeeds.
  absl::SleepFor(absl::Seconds(4));
  std::vector<std::string> after;
  for (int i = 0; i < kAfterOutage; ++i) {
    after.push_back(absl::StrCat("+1415555300", i));
    alerts[after.back()] = Send(after.back());
    absl::SleepFor(absl::Milliseconds(300));
  }

  auto query = suite_.QueryStub();
  for (const auto& [recipient, alert_id] : alerts) {
    const alerts::v1::Alert alert =
        WaitForStatus(*query, alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED)
        << recipient << ": " << alert.reason();
  }
  int through_backup = 0;
  for (const auto& [recipient, alert_id] : alerts) {
    const std::vector<nlohmann::json> accepted = suite_.LedgerTo(recipient, "message");
    ASSERT_EQ(accepted.size(), 1u) << recipient << " was accepted by more than one request";
    if (accepted[0]["account"] == kBackupAccount) ++through_backup;
  }
  EXPECT_GE(through_backup, kDuringOutage - 3) << "the outage's alerts did not move to backup";
  // Once the breaker closed, main takes the sends again.
  EXPECT_EQ(suite_.LedgerTo(after.back(), "message")[0]["account"], kMainAccount);
  // Every refusal was main's: backup never failed.
  for (const nlohmann::json& rejected : suite_.Rejected()) {
    EXPECT_EQ(rejected["account"], kMainAccount);
  }

  const std::string metrics = suite_.Metrics("sms-worker");
  EXPECT_GE(
      MetricValue(
          metrics,
          R"(klaxon_twilio_account_breaker_changes_total{account="main",channel="sms",state="open"})"),
      1);
  EXPECT_GE(
      MetricValue(
          metrics,
          R"(klaxon_twilio_account_breaker_changes_total{account="main",channel="sms",state="closed"})"),
      1);
  EXPECT_EQ(
      MetricValue(metrics, R"(klaxon_twilio_account_breaker_state{account="main",channel="sms"})"),
      0);
  EXPECT_GT(
      MetricValue(
          metrics,
          R"(klaxon_twilio_account_last_answer_timestamp_seconds{account="backup",channel="sms"})"),
      0);
  const std::string logs = suite_.ServiceLogs();
  EXPECT_NE(logs.find("\"account_breaker_open\""), std::string::npos);
  EXPECT_NE(logs.find("\"account_breaker_closed\""), std::string::npos);
}

}  // namespace
}  // namespace klaxon::e2e::failover_test
