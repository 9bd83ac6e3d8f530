// Voice escalation and opt-outs end to end on the sandbox (docs/adr/0007): calls nobody answers
// are placed again per the alert's policy and then fall back to SMS; a key press on a call
// acknowledges the alert and stops the escalation, and so does the caller's AcknowledgeAlert; a
// STOP suppresses SMS to its sender until a START. Each is checked in GetAlert and in the sandbox's
// ledger. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::voice_escalation_test {
namespace {

using alerts::v1::Alert;
using google::protobuf::util::TimeUtil;

// Long enough for consumer group joins on a loaded two-core machine plus the calls' spacing.
constexpr absl::Duration kWait = absl::Seconds(60);
constexpr int64_t kSpacingSeconds = 2;

// The tests share one suite: each calls and texts a number of its own and looks only at that.
class VoiceEscalationE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() { StartSharedSuite(); }

  // Sends an alert and returns its id; a refused SendAlert fails the test.
  std::string Send(types::v1::Channel channel, const std::string& recipient, const std::string& key,
                   uint32_t max_calls = 0, bool sms_fallback = false) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(recipient);
    request.set_text("disk full on db-1");
    request.set_idempotency_key(key);
    if (channel == types::v1::CHANNEL_VOICE) {
      request.mutable_voice()->set_max_calls(max_calls);
      request.mutable_voice()->set_sms_fallback(sms_fallback);
      *request.mutable_voice()->mutable_call_spacing() =
          TimeUtil::SecondsToDuration(kSpacingSeconds);
    }
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc =
        suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response.alert_id();
  }

  // Polls GetAlert until `done` holds for the alert or kWait passed; returns the last answer.
  // UNAVAILABLE is audit not having stored the alert yet (it is behind Kafka): asked again.
  Alert WaitUntil(const std::string& alert_id, const std::function<bool(const Alert&)>& done) {
    const absl::Time deadline = absl::Now() + kWait;
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    Alert alert;
    while (absl::Now() < deadline) {
      Alert answer;
      const grpc::Status rpc =
          suite_->QueryStub()->GetAlert(Suite::CallContext().get(), request, &answer);
      if (rpc.ok()) {
        alert = answer;
        if (done(alert)) break;
      } else if (rpc.error_code() != grpc::StatusCode::UNAVAILABLE) {
        ADD_FAILURE() << rpc.error_code() << " " << rpc.error_message();
        break;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return alert;
  }
};

TEST_F(VoiceEscalationE2eKafkaRedisPostgresTest, UnansweredCallsAreRepeatedThenSentBySms) {
  constexpr char kTo[] = "+14155550171";
  suite_->AddSandboxFaults(R"({"type": "delivery", "kind": "call", "to": "+14155550171",
                              "outcome": "no-answer"})");
  const std::string alert_id = Send(types::v1::CHANNEL_VOICE, kTo, "fallback", 2, true);
  const Alert alert = WaitUntil(alert_id, [](const Alert& a) {
    return a.attempts_size() == 3 && a.status() == types::v1::ALERT_STATUS_DELIVERED;
  });
  ASSERT_EQ(alert.attempts_size(), 3) << alert.DebugString();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(alert.attempts(i).channel(), types::v1::CHANNEL_VOICE);
    EXPECT_EQ(alert.attempts(i).status(), types::v1::ALERT_STATUS_UNDELIVERED);
    EXPECT_THAT(alert.attempts(i).reason(), ::testing::HasSubstr("no-answer"));
  }
  EXPECT_EQ(alert.attempts(2).channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);

  const std::vector<nlohmann::json> calls = suite_->LedgerTo(kTo, "call");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(suite_->LedgerTo(kTo, "message").size(), 1u);
  // The second call waited for the policy's spacing after the first ended.
  absl::Time first;
  absl::Time second;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, calls[0].at("received_at").get<std::string>(),
                              &first, &error))
      << error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, calls[1].at("received_at").get<std::string>(),
                              &second, &error))
      << error;
  EXPECT_GE(second - first, absl::Seconds(kSpacingSeconds));
}

TEST_F(VoiceEscalationE2eKafkaRedisPostgresTest, KeyPressOnTheSecondCallAcknowledgesTheAlert) {
  constexpr char kTo[] = "+14155550172";
  suite_->AddSandboxFaults(R"([{"type": "delivery", "kind": "call", "to": "+14155550172",
                               "outcome": "no-answer", "count": 1},
                              {"type": "delivery", "kind": "call", "to": "+14155550172",
                               "outcome": "key-press", "digits": "1"}])");
  const std::string alert_id = Send(types::v1::CHANNEL_VOICE, kTo, "ack", 3, true);
  const Alert alert =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_ACKNOWLEDGED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_ACKNOWLEDGED);
  ASSERT_EQ(alert.attempts_size(), 2) << alert.DebugString();
  EXPECT_EQ(alert.attempts(0).status(), types::v1::ALERT_STATUS_UNDELIVERED);
  // Nothing more follows the acknowledgement: give a third call its spacing and then some.
  absl::SleepFor(absl::Seconds(2 * kSpacingSeconds));
  EXPECT_EQ(suite_->LedgerTo(kTo, "call").size(), 2u);
  EXPECT_TRUE(suite_->LedgerTo(kTo, "message").empty());
}

TEST_F(VoiceEscalationE2eKafkaRedisPostgresTest, AcknowledgeAlertAfterTheFirstCallStopsTheCalls) {
  constexpr char kTo[] = "+14155550174";
  suite_->AddSandboxFaults(R"([{"type": "delivery", "kind": "call", "to": "+14155550174",
                               "outcome": "no-answer", "count": 3}])");
  const std::string alert_id = Send(types::v1::CHANNEL_VOICE, kTo, "api-ack", 3, true);
  const absl::Time deadline = absl::Now() + kWait;
  while (suite_->LedgerTo(kTo, "call").empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(suite_->LedgerTo(kTo, "call").size(), 1u);

  // The on-call engineer acknowledges from the team's console while the next call waits.
  alerts::v1::AcknowledgeAlertRequest request;
  request.set_alert_id(alert_id);
  alerts::v1::AcknowledgeAlertResponse response;
  const grpc::Status rpc =
      suite_->IntakeStub()->AcknowledgeAlert(Suite::CallContext().get(), request, &response);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  EXPECT_FALSE(response.already_acknowledged());

  const Alert alert =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_ACKNOWLEDGED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_ACKNOWLEDGED) << alert.DebugString();
  // No second call and no SMS fallback: give them their spacing and then some.
  absl::SleepFor(absl::Seconds(3 * kSpacingSeconds));
  EXPECT_EQ(suite_->LedgerTo(kTo, "call").size(), 1u);
  EXPECT_TRUE(suite_->LedgerTo(kTo, "message").empty());
}

TEST_F(VoiceEscalationE2eKafkaRedisPostgresTest, StopSuppressesSmsUntilStart) {
  constexpr char kTo[] = "+14155550173";
  suite_->ReceiveSms(kTo, "STOP");
  // The opt-out is consumed asynchronously: send until one alert ends SUPPRESSED.
  std::string suppressed_id;
  const absl::Time deadline = absl::Now() + kWait;
  for (int i = 0; suppressed_id.empty() && absl::Now() < deadline; ++i) {
    const std::string id = Send(types::v1::CHANNEL_SMS, kTo, "stop-" + std::to_string(i));
    const Alert alert =
        WaitForStatus(*suite_->QueryStub(), id, types::v1::ALERT_STATUS_SUPPRESSED, kWait);
    if (alert.status() == types::v1::ALERT_STATUS_SUPPRESSED) suppressed_id = id;
  }
  ASSERT_FALSE(suppressed_id.empty()) << "no SMS to the opted-out number ended SUPPRESSED";
  for (const nlohmann::json& entry : suite_->LedgerTo(kTo, "message")) {
    EXPECT_EQ(entry.value("status_callback", "").find(suppressed_id), std::string::npos)
        << "the suppressed alert reached Twilio";
  }
  const size_t sent_before_start = suite_->LedgerTo(kTo, "message").size();

  suite_->ReceiveSms(kTo, "START");
  std::string delivered_id;
  for (int i = 0; delivered_id.empty() && absl::Now() < deadline + kWait; ++i) {
    const std::string id = Send(types::v1::CHANNEL_SMS, kTo, "start-" + std::to_string(i));
    const Alert alert =
        WaitForStatus(*suite_->QueryStub(), id, types::v1::ALERT_STATUS_DELIVERED, kWait);
    if (alert.status() == types::v1::ALERT_STATUS_DELIVERED) delivered_id = id;
  }
  EXPECT_FALSE(delivered_id.empty()) << "no SMS was delivered after START";
  // Only alerts sent after the opt-in reached the sandbox.
  EXPECT_GE(suite_->LedgerTo(kTo, "message").size(), sent_before_start + 1);
}

}  // namespace
}  // namespace klaxon::e2e::voice_escalation_test
