// End to end through real Kafka, Redis and Postgres to the Twilio sandbox and back:
// SendAlert at ingress → klaxon.sms.requests → sms-worker → sandbox → klaxon.delivery.events →
// audit → GetAlert, and the sandbox's status callbacks → ingress's webhooks →
// klaxon.twilio.events → audit. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"

namespace klaxon::e2e::first_alert_test {
namespace {

using alerts::v1::Alert;
using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;
using ::testing::HasSubstr;

SendAlertRequest SmsRequest(std::string key, std::string text,
                            std::string recipient = "+14155550123") {
  SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient(std::move(recipient));
  request.set_text(std::move(text));
  request.set_idempotency_key(std::move(key));
  return request;
}

class FirstAlertE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(suite_.Start()); }
  Suite suite_;
};

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, SmsEndsDeliveredAndReachesTheSandboxOnce) {
  auto intake = suite_.IntakeStub();
  auto query = suite_.QueryStub();
  SendAlertResponse sent;
  grpc::Status rpc = intake->SendAlert(Suite::CallContext().get(),
                                       SmsRequest("first", "disk full on db-1"), &sent);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();

  // Right after SendAlert returns, audit must already know the alert.
  alerts::v1::GetAlertRequest get;
  get.set_alert_id(sent.alert_id());
  Alert alert;
  rpc = query->GetAlert(Suite::CallContext().get(), get, &alert);
  ASSERT_TRUE(rpc.ok()) << rpc.error_code() << " " << rpc.error_message();
  EXPECT_THAT(alert.status(),
              ::testing::AnyOf(types::v1::ALERT_STATUS_QUEUED, types::v1::ALERT_STATUS_SENT,
                               types::v1::ALERT_STATUS_DELIVERED));

  alert =
      WaitForStatus(*query, sent.alert_id(), types::v1::ALERT_STATUS_DELIVERED, absl::Seconds(20));
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(alert.recipient_last4(), "0123");
  EXPECT_THAT(alert.twilio_sid(), ::testing::StartsWith("SM"));

  const nlohmann::json ledger = suite_.Ledger();
  ASSERT_EQ(ledger.size(), 1u) << ledger.dump();
  EXPECT_EQ(ledger[0]["to"], "+14155550123");
  EXPECT_EQ(ledger[0]["from"], Suite::kSender);
  EXPECT_EQ(ledger[0]["body"], "disk full on db-1");
  EXPECT_EQ(ledger[0]["sid"], alert.twilio_sid());

  // klaxon-admin topic-offsets counts what was written: the one request, and the status callbacks
  // that made it DELIVERED (the worker's own outcome may still be on its way).
  testing::ChildProcess offsets({suite_.Binary("klaxon-admin"), "topic-offsets"}, suite_.env(),
                                suite_.LogPath("topic-offsets"));
  ASSERT_EQ(offsets.WaitForExit(absl::Seconds(30)), 0) << offsets.Log();
  const std::string counts = offsets.Log();
  EXPECT_THAT(counts, ::testing::HasSubstr("klaxon.sms.requests 1\n")) << counts;
  EXPECT_THAT(counts, ::testing::ContainsRegex("klaxon.twilio.events [1-9]")) << counts;
  EXPECT_THAT(counts, ::testing::HasSubstr("klaxon.dlq 0\n")) << counts;
}

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, RepeatedIdempotencyKeySendsOneMessage) {
  auto intake = suite_.IntakeStub();
  SendAlertResponse first;
  SendAlertResponse second;
  ASSERT_TRUE(intake->SendAlert(Suite::CallContext().get(), SmsRequest("same", "x"), &first).ok());
  ASSERT_TRUE(intake->SendAlert(Suite::CallContext().get(), SmsRequest("same", "x"), &second).ok());
  EXPECT_EQ(first.alert_id(), second.alert_id());
  EXPECT_TRUE(second.duplicate());
  auto query = suite_.QueryStub();
  EXPECT_EQ(
      WaitForStatus(*query, first.alert_id(), types::v1::ALERT_STATUS_DELIVERED, absl::Seconds(20))
          .status(),
      types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(suite_.Ledger().size(), 1u);
}

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, ThousandAlertsMakeExactlyThousandMessages) {
  constexpr int kAlerts = 1000;
  constexpr int kSenders = 8;
  std::atomic<int> failures = 0;
  {
    std::vector<std::jthread> senders;
    for (int s = 0; s < kSenders; ++s) {
      senders.emplace_back([&, s] {
        auto intake = suite_.IntakeStub();
        for (int i = s; i < kAlerts; i += kSenders) {
          SendAlertResponse response;
          const grpc::Status rpc = intake->SendAlert(
              Suite::CallContext().get(),
              SmsRequest(absl::StrCat("bulk-", i), absl::StrCat("alert #", i)), &response);
          if (!rpc.ok()) ++failures;
        }
      });
    }
  }
  ASSERT_EQ(failures.load(), 0);

  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  nlohmann::json ledger;
  do {
    ledger = suite_.Ledger();
    if (ledger.size() >= kAlerts) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  std::set<std::string> bodies;
  for (const nlohmann::json& entry : ledger) bodies.insert(entry["body"].get<std::string>());
  EXPECT_EQ(ledger.size(), static_cast<size_t>(kAlerts));
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kAlerts)) << "some alert was sent twice";
}

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, InvalidInputIsRefusedNamingTheField) {
  auto intake = suite_.IntakeStub();
  SendAlertResponse response;
  grpc::Status rpc =
      intake->SendAlert(Suite::CallContext().get(), SmsRequest("bad", "x", "+1415555"), &response);
  EXPECT_EQ(rpc.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(rpc.error_message(), HasSubstr("recipient"));
}

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, CallerWithoutValidKeyIsUnauthenticated) {
  auto intake = suite_.IntakeStub();
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer wrong");
  SendAlertResponse response;
  EXPECT_EQ(intake->SendAlert(&context, SmsRequest("k", "x"), &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(FirstAlertE2eKafkaRedisPostgresTest, LogsNeverHoldTheRecipientOrText) {
  auto intake = suite_.IntakeStub();
  SendAlertResponse sent;
  ASSERT_TRUE(intake
                  ->SendAlert(Suite::CallContext().get(),
                              SmsRequest("pii", "secret-text-7431", "+14155550199"), &sent)
                  .ok());
  auto query = suite_.QueryStub();
  // DELIVERED: the status callbacks, which carry the number, have been through ingress too.
  ASSERT_EQ(
      WaitForStatus(*query, sent.alert_id(), types::v1::ALERT_STATUS_DELIVERED, absl::Seconds(20))
          .status(),
      types::v1::ALERT_STATUS_DELIVERED);
  const std::string logs = suite_.ServiceLogs();
  EXPECT_THAT(logs, HasSubstr(sent.alert_id()));
  EXPECT_THAT(logs, ::testing::Not(HasSubstr("4155550199")));
  EXPECT_THAT(logs, ::testing::Not(HasSubstr("secret-text-7431")));
}

}  // namespace
}  // namespace klaxon::e2e::first_alert_test
