// Each class of Twilio answer (docs/adr/0007), end to end against the sandbox's fault injection:
// the alert's final status in GetAlert, how many requests reached the sandbox (its ledgers of
// accepted and refused requests for the recipient), and that a retry waited at least what the
// policy demands (Retry-After, the slow-down pause). The workers run with short retry settings.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::outcome_classes_test {
namespace {

using alerts::v1::Alert;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Long enough for consumer group joins (request topic and tiers) on a loaded two-core machine.
constexpr absl::Duration kWait = absl::Seconds(60);
constexpr int kMaxAttempts = 3;

// The tests share one suite: each has a recipient of its own, and looks only at that recipient's
// requests and its own alert.
class OutcomeClassesE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() {
    StartSharedSuite({.worker_env = {{"KLAXON_RETRY_BASE", "100ms"},
                                     {"KLAXON_RETRY_CAP", "1s"},
                                     {"KLAXON_MAX_ATTEMPTS", std::to_string(kMaxAttempts)},
                                     {"KLAXON_SETTLE_AFTER", "1s"},
                                     // A hang fault outlasts it: the answer is lost.
                                     {"KLAXON_TWILIO_TIMEOUT", "1s"},
                                     // The tests' refusals together would open the account's
                                     // breaker, holding every later test's sends.
                                     {"KLAXON_ACCOUNT_BREAKER_FAILURES", "1000"}}});
  }

  std::string Send(const std::string& recipient, const std::string& key) {
    return suite_->SendAlert(SmsAlert(recipient, "disk full on db-1", key));
  }

  Alert WaitFor(const std::string& alert_id, types::v1::AlertStatus status) {
    return WaitForStatus(*suite_->QueryStub(), alert_id, status, kWait);
  }

  // When each of the sandbox's accepted (or refused) requests to `to` arrived, in order.
  static std::vector<absl::Time> ReceivedAt(const nlohmann::json& entries, const std::string& to) {
    std::vector<absl::Time> times;
    for (const nlohmann::json& entry : entries) {
      if (entry["to"] != to) continue;
      absl::Time time;
      std::string error;
      EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, entry["received_at"].get<std::string>(),
                                  &time, &error))
          << error;
      times.push_back(time);
    }
    return times;
  }
  std::vector<absl::Time> Accepted(const std::string& to) const {
    return ReceivedAt(suite_->Ledger(), to);
  }
  std::vector<absl::Time> Refused(const std::string& to) const {
    return ReceivedAt(suite_->Rejected(), to);
  }
};

// A 429 (20429) was never processed, so it costs no attempt (ADR 0043): refused as many times as
// the alert has attempts, it is still delivered, as its first attempt, each resend after the
// Retry-After (2 s, longer than the least wait of 1 s).
TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, ThrottledIsSentAgainAsTheSameAttemptAndDelivered) {
  const std::string to = "+14155550201";
  suite_->AddSandboxFaults(absl::StrCat(R"({"type": "rate_limit", "to": ")", to, R"(", "count": )",
                                        kMaxAttempts, R"(, "retry_after_s": 2})"));
  const Alert alert = WaitFor(Send(to, "429"), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.attempts_size(), 1);
  const std::vector<absl::Time> refused = Refused(to);
  const std::vector<absl::Time> accepted = Accepted(to);
  ASSERT_EQ(refused.size(), static_cast<size_t>(kMaxAttempts));
  ASSERT_EQ(accepted.size(), 1u);
  for (size_t i = 1; i < refused.size(); ++i) {
    EXPECT_GE(refused[i] - refused[i - 1], absl::Seconds(2)) << i;
  }
  EXPECT_GE(accepted[0] - refused.back(), absl::Seconds(2));
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, ServerErrorIsRetriedAndDelivered) {
  const std::string to = "+14155550202";
  suite_->AddSandboxFaults(
      absl::StrCat(R"({"type": "server_error", "to": ")", to, R"(", "count": 1, "status": 503})"));
  const Alert alert = WaitFor(Send(to, "503"), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.attempts_size(), 2);
  const std::vector<absl::Time> refused = Refused(to);
  const std::vector<absl::Time> accepted = Accepted(to);
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_GE(accepted[0], refused[0]);
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, InvalidNumberFailsAtOnceAfterOneRequest) {
  const std::string to = "+14155550203";
  suite_->AddSandboxFaults(
      absl::StrCat(R"({"type": "error", "to": ")", to, R"(", "status": 400, "code": 21211})"));
  const Alert alert = WaitFor(Send(to, "21211"), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(alert.twilio_error_code(), 21211);
  EXPECT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(Refused(to).size(), 1u);
  EXPECT_TRUE(Accepted(to).empty());
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, OptedOutRecipientFailsThenIsSuppressed) {
  const std::string to = "+14155550204";
  suite_->AddSandboxFaults(
      absl::StrCat(R"({"type": "error", "to": ")", to, R"(", "status": 400, "code": 21610})"));
  const Alert first = WaitFor(Send(to, "21610-a"), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(first.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(first.twilio_error_code(), 21610);
  const Alert second = WaitFor(Send(to, "21610-b"), types::v1::ALERT_STATUS_SUPPRESSED);
  EXPECT_EQ(second.status(), types::v1::ALERT_STATUS_SUPPRESSED);
  EXPECT_EQ(Refused(to).size(), 1u);  // the suppressed alert never reached Twilio
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, SlowDownIsDeferredThenSent) {
  const std::string to = "+14155550205";
  suite_->AddSandboxFaults(absl::StrCat(R"({"type": "error", "to": ")", to,
                                        R"(", "count": 1, "status": 400, "code": 21611})"));
  const Alert alert = WaitFor(Send(to, "21611"), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  const std::vector<absl::Time> refused = Refused(to);
  const std::vector<absl::Time> accepted = Accepted(to);
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_EQ(accepted.size(), 1u);
  // The sender's queue was full: the worker pauses it at least 10 s (README, retries).
  EXPECT_GE(accepted[0] - refused[0], absl::Seconds(10));
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, LostAnswerOfAcceptedRequestSettlesAsAccepted) {
  const std::string to = "+14155550206";
  suite_->AddSandboxFaults(absl::StrCat(R"({"type": "hang", "to": ")", to,
                                        R"(", "count": 1, "hang_ms": 3000, "accept": true})"));
  const Alert alert = WaitFor(Send(to, "hang-accepted"), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_THAT(alert.twilio_sid(), StartsWith("SM"));
  EXPECT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(Accepted(to).size(), 1u);
  EXPECT_TRUE(Refused(to).empty());
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, LostAnswerOfRefusedRequestSettlesAndRetries) {
  const std::string to = "+14155550207";
  suite_->AddSandboxFaults(
      absl::StrCat(R"({"type": "hang", "to": ")", to, R"(", "count": 1, "hang_ms": 3000})"));
  const Alert alert = WaitFor(Send(to, "hang-refused"), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.attempts_size(), 2);
  EXPECT_EQ(Refused(to).size(), 1u);
  EXPECT_EQ(Accepted(to).size(), 1u);
}

TEST_F(OutcomeClassesE2eKafkaRedisPostgresTest, OutOfAttemptsFailsWithDeadLetterReason) {
  const std::string to = "+14155550208";
  suite_->AddSandboxFaults(
      absl::StrCat(R"({"type": "server_error", "to": ")", to, R"(", "status": 503})"));
  const Alert alert = WaitFor(Send(to, "exhausted"), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_THAT(alert.reason(), HasSubstr("attempt"));
  EXPECT_EQ(alert.attempts_size(), kMaxAttempts);
  EXPECT_EQ(Refused(to).size(), static_cast<size_t>(kMaxAttempts));
  EXPECT_TRUE(Accepted(to).empty());
}

}  // namespace
}  // namespace klaxon::e2e::outcome_classes_test
