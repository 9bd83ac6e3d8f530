// An SMS alert sent with ack_by_reply, end to end through the real ingress, Redis, Kafka,
// sms-worker, sandbox and audit: the text the recipient gets asks for "ACK <code>"; a wrong code
// or the right code from another number acknowledges nothing, the right reply makes the alert
// ACKNOWLEDGED (ADR 0024). Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/e2e/suite.h"

namespace klaxon::e2e {
namespace {

constexpr char kRecipient[] = "+14155550178";

class SmsAckReplyE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(suite_.Start()); }

  grpc::Status Send(types::v1::Channel channel, const std::string& key,
                    alerts::v1::SendAlertResponse& sent) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(kRecipient);
    request.set_text("disk full on db-1");
    request.set_idempotency_key(key);
    request.set_ack_by_reply(true);
    return suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  }

  Suite suite_;
};

TEST_F(SmsAckReplyE2eKafkaRedisPostgresTest, TheRecipientsReplyWithTheCodeAcknowledgesTheAlert) {
  alerts::v1::SendAlertResponse sent;
  const grpc::Status send = Send(types::v1::CHANNEL_SMS, "ack-by-reply", sent);
  ASSERT_TRUE(send.ok()) << send.error_message();
  auto query = suite_.QueryStub();
  alerts::v1::Alert delivered =
      WaitForStatus(*query, sent.alert_id(), types::v1::ALERT_STATUS_DELIVERED, absl::Seconds(60));
  ASSERT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED) << delivered.reason();

  const std::vector<nlohmann::json> messages = suite_.LedgerTo(kRecipient, "message");
  ASSERT_EQ(messages.size(), 1u);
  const std::string body = messages[0].value("body", "");
  std::smatch found;
  ASSERT_TRUE(std::regex_search(
      body, found, std::regex("^disk full on db-1\nReply ACK ([0-9]{4}) to acknowledge\\.$")))
      << body;
  const std::string code = found[1].str();
  const std::string wrong = code == "0000" ? "0001" : "0000";

  // Neither a wrong code nor the right one from another number acknowledges it.
  ASSERT_NO_FATAL_FAILURE(suite_.ReceiveSms(kRecipient, "ACK " + wrong));
  ASSERT_NO_FATAL_FAILURE(suite_.ReceiveSms("+14155550179", "ACK " + code));
  std::string twiml;
  ASSERT_NO_FATAL_FAILURE(suite_.ReceiveSms(kRecipient, " ack " + code, &twiml));
  EXPECT_EQ(twiml, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");

  const alerts::v1::Alert acknowledged = WaitForStatus(
      *query, sent.alert_id(), types::v1::ALERT_STATUS_ACKNOWLEDGED, absl::Seconds(60));
  EXPECT_EQ(acknowledged.status(), types::v1::ALERT_STATUS_ACKNOWLEDGED) << acknowledged.reason();
  EXPECT_NE(acknowledged.reason().find("SMS reply"), std::string::npos) << acknowledged.reason();
  EXPECT_EQ(suite_.LedgerTo(kRecipient, "message").size(), 1u);
  EXPECT_EQ(suite_.ServiceLogs().find("4155550178"), std::string::npos);
}

TEST_F(SmsAckReplyE2eKafkaRedisPostgresTest, AVoiceAlertAskingForAReplyIsRefusedNamingTheField) {
  alerts::v1::SendAlertResponse sent;
  const grpc::Status send = Send(types::v1::CHANNEL_VOICE, "voice-ack-by-reply", sent);
  EXPECT_EQ(send.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(send.error_message().rfind("ack_by_reply: ", 0), 0u) << send.error_message();
}

}  // namespace
}  // namespace klaxon::e2e
