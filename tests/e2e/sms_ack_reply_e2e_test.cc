// An SMS alert sent with ack_by_reply, end to end through the real ingress, Redis, Kafka,
// sms-worker, sandbox and audit: the text the recipient gets asks for "ACK <code>"; a wrong code
// or the right code from another number acknowledges nothing, the right reply makes the alert
// ACKNOWLEDGED and leaves its delivered attempt as it was (ADR 0024). Needs
// KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <utility>

#include "tests/e2e/suite.h"

namespace klaxon::e2e::sms_ack_reply_test {
namespace {

constexpr char kRecipient[] = "+14155550178";
constexpr char kOther[] = "+14155550179";
constexpr absl::Duration kWait = absl::Seconds(60);

// The tests share one suite: each has a recipient of its own.
class SmsAckReplyE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() { StartSharedSuite(); }

  grpc::Status Send(types::v1::Channel channel, const std::string& to, const std::string& text,
                    alerts::v1::SendAlertResponse& sent) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(to);
    request.set_text(text);
    std::string key = text;
    std::replace(key.begin(), key.end(), ' ', '-');
    request.set_idempotency_key(key);
    request.set_ack_by_reply(true);
    return suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  }

  // Sends `text` to `to` asking for an ACK reply, waits until it is delivered, and returns its id
  // and the code its text asks for, as the person reads it on their phone.
  std::pair<std::string, std::string> Delivered(const std::string& to, const std::string& text) {
    alerts::v1::SendAlertResponse sent;
    const grpc::Status send = Send(types::v1::CHANNEL_SMS, to, text, sent);
    EXPECT_TRUE(send.ok()) << send.error_message();
    const alerts::v1::Alert alert = WaitForStatus(*suite_->QueryStub(), sent.alert_id(),
                                                  types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert.reason();
    std::string body;
    for (const nlohmann::json& message : suite_->LedgerTo(to, "message")) {
      if (message.value("body", "").starts_with(text + "\n")) body = message.value("body", "");
    }
    std::smatch found;
    EXPECT_TRUE(
        std::regex_search(body, found, std::regex("\nReply ACK ([0-9]{4}) to acknowledge\\.$")))
        << body;
    return {sent.alert_id(), found.size() > 1 ? found[1].str() : ""};
  }

  alerts::v1::Alert Acknowledged(const std::string& alert_id) {
    return WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_ACKNOWLEDGED,
                         kWait);
  }
};

TEST_F(SmsAckReplyE2eKafkaRedisPostgresTest, TheRecipientsReplyWithTheCodeAcknowledgesTheAlert) {
  const auto [first, code] = Delivered(kRecipient, "disk full on db-1");
  const auto [second, second_code] = Delivered(kRecipient, "disk full on db-2");
  const auto [others, others_code] = Delivered(kOther, "disk full on db-3");
  ASSERT_NE(code, second_code);  // one number never holds a code twice
  std::string wrong = "0000";
  while (wrong == code || wrong == second_code) wrong[3]++;

  // A wrong code from the recipient, and the right code from another number; then, from each
  // number, a reply that acknowledges its own second alert, consumed after the first.
  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(kRecipient, "ACK " + wrong));
  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(kOther, "ACK " + code));
  std::string twiml;
  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(kRecipient, "ack" + second_code, &twiml));
  EXPECT_EQ(twiml, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(kOther, " Ack " + others_code + " "));
  EXPECT_EQ(Acknowledged(second).status(), types::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(Acknowledged(others).status(), types::v1::ALERT_STATUS_ACKNOWLEDGED);
  // Their records and any wrong one go to audit on different partitions: give a wrong one time.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(
      WaitForStatus(*suite_->QueryStub(), first, types::v1::ALERT_STATUS_DELIVERED, kWait).status(),
      types::v1::ALERT_STATUS_DELIVERED);

  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(kRecipient, "ACK " + code));
  const alerts::v1::Alert acknowledged = Acknowledged(first);
  EXPECT_EQ(acknowledged.status(), types::v1::ALERT_STATUS_ACKNOWLEDGED) << acknowledged.reason();
  EXPECT_NE(acknowledged.reason().find("SMS reply"), std::string::npos) << acknowledged.reason();
  // The delivered attempt keeps its status: the acknowledgement is the alert's.
  ASSERT_EQ(acknowledged.attempts_size(), 1);
  EXPECT_EQ(acknowledged.attempts(0).status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(suite_->LedgerTo(kRecipient, "message").size(), 2u);
  EXPECT_EQ(suite_->ServiceLogs().find("4155550178"), std::string::npos);
}

TEST_F(SmsAckReplyE2eKafkaRedisPostgresTest, AVoiceAlertAskingForAReplyIsRefusedNamingTheField) {
  alerts::v1::SendAlertResponse sent;
  const grpc::Status send =
      Send(types::v1::CHANNEL_VOICE, "+14155550175", "voice-ack-by-reply", sent);
  EXPECT_EQ(send.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(send.error_message().rfind("ack_by_reply: ", 0), 0u) << send.error_message();
}

}  // namespace
}  // namespace klaxon::e2e::sms_ack_reply_test
