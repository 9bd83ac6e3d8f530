// Twilio's delivery reports, end to end: the sandbox posts signed status callbacks to ingress's
// webhooks, ingress publishes them to klaxon.twilio.events, audit folds them into the alert, and
// GetAlert shows how the alert ended: DELIVERED, or UNDELIVERED / FAILED with Twilio's error
// code. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::delivery_reports_test {
namespace {

using alerts::v1::Alert;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The sum of every series of `metrics` (a /metrics text) whose line starts with `prefix`.
double SeriesSum(const std::string& metrics, const std::string& prefix) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
  }
  return sum;
}

// Long enough for a consumer group join on a loaded two-core machine.
constexpr absl::Duration kWait = absl::Seconds(30);

// Sends an alert through `suite` and returns its id; a refused SendAlert fails the test.
// `max_calls` > 0 sets a voice alert's escalation policy (one call: no second call to wait for).
std::string SendThrough(const Suite& suite, types::v1::Channel channel,
                        const std::string& recipient, const std::string& key,
                        uint32_t max_calls = 0) {
  alerts::v1::SendAlertRequest request = SmsAlert(recipient, "disk full on db-1", key);
  request.set_channel(channel);
  if (max_calls > 0) request.mutable_voice()->set_max_calls(max_calls);
  return suite.SendAlert(request);
}

// These tests share one suite: each looks only at its own alerts and recipients.
class DeliveryReportsE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() { StartSharedSuite(); }

  std::string Send(types::v1::Channel channel, const std::string& recipient, const std::string& key,
                   uint32_t max_calls = 0) {
    return SendThrough(*suite_, channel, recipient, key, max_calls);
  }
};

// A test that counts the suite's callbacks (ingress's and audit's metrics) has a suite of its own.
class DeliveryReportsCountedE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(suite_.Start()); }

  std::string Send(types::v1::Channel channel, const std::string& recipient,
                   const std::string& key) {
    return SendThrough(suite_, channel, recipient, key);
  }

  Suite suite_;
};

TEST_F(DeliveryReportsE2eKafkaRedisPostgresTest, SmsEndsDeliveredOnTheCarriersReport) {
  const std::string alert_id = Send(types::v1::CHANNEL_SMS, "+14155550123", "delivered");
  const Alert alert =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_THAT(alert.twilio_sid(), StartsWith("SM"));
  EXPECT_EQ(alert.twilio_error_code(), 0);
  ASSERT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(alert.attempts(0).status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.attempts(0).twilio_sid(), alert.twilio_sid());
}

TEST_F(DeliveryReportsE2eKafkaRedisPostgresTest, CarrierFailuresEndUndeliveredOrFailedWithCode) {
  // The sandbox accepts both messages, then reports one undelivered (30003, unreachable
  // handset) and the other failed (30008, unknown error).
  suite_->AddSandboxFaults(R"([
      {"type": "delivery", "kind": "message", "to": "+14155550131", "outcome": "undelivered",
       "error_code": 30003},
      {"type": "delivery", "kind": "message", "to": "+14155550132", "outcome": "failed",
       "error_code": 30008}])");
  const std::string undelivered_id = Send(types::v1::CHANNEL_SMS, "+14155550131", "undelivered");
  const std::string failed_id = Send(types::v1::CHANNEL_SMS, "+14155550132", "failed");
  auto query = suite_->QueryStub();

  const Alert undelivered =
      WaitForStatus(*query, undelivered_id, types::v1::ALERT_STATUS_UNDELIVERED, kWait);
  EXPECT_EQ(undelivered.status(), types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(undelivered.twilio_error_code(), 30003);
  EXPECT_THAT(undelivered.reason(), HasSubstr("undelivered, error 30003"));
  ASSERT_EQ(undelivered.attempts_size(), 1);
  EXPECT_EQ(undelivered.attempts(0).twilio_error_code(), 30003);

  const Alert failed = WaitForStatus(*query, failed_id, types::v1::ALERT_STATUS_FAILED, kWait);
  EXPECT_EQ(failed.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(failed.twilio_error_code(), 30008);
  EXPECT_THAT(failed.reason(), HasSubstr("failed, error 30008"));
}

// Twilio's callbacks "can arrive out of order or twice" (TWILIO.md): a repeat is taken once, and
// a SENT that comes after DELIVERED does not take the alert back.
TEST_F(DeliveryReportsCountedE2eKafkaRedisPostgresTest,
       CallbacksTwiceOrLastFirstStillEndDelivered) {
  suite_.AddSandboxFaults(R"([
      {"type": "delivery", "to": "+14155550151", "outcome": "delivered", "callbacks": "duplicated"},
      {"type": "delivery", "to": "+14155550152", "outcome": "delivered", "callbacks": "reversed"}])");
  const std::string twice_id = Send(types::v1::CHANNEL_SMS, "+14155550151", "twice");
  const std::string reversed_id = Send(types::v1::CHANNEL_SMS, "+14155550152", "reversed");
  auto query = suite_.QueryStub();
  for (const std::string& alert_id : {twice_id, reversed_id}) {
    const Alert alert = WaitForStatus(*query, alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert_id;
    EXPECT_EQ(alert.attempts_size(), 1) << alert_id;
  }
  // The reversed SENT left the sandbox right after DELIVERED: wait until audit has taken all
  // four statuses in.
  const absl::Time deadline = absl::Now() + kWait;
  while (SeriesSum(suite_.Metrics("audit"), "klaxon_audit_twilio_events_total{") < 4 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_GE(SeriesSum(suite_.Metrics("audit"), "klaxon_audit_twilio_events_total{"), 4);
  const Alert reversed =
      WaitForStatus(*query, reversed_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(reversed.status(), types::v1::ALERT_STATUS_DELIVERED);
  ASSERT_EQ(reversed.attempts_size(), 1);
  EXPECT_EQ(reversed.attempts(0).status(), types::v1::ALERT_STATUS_DELIVERED);
  // Four statuses kept once each; each copy was answered without being kept again: as one
  // already kept, or (the sandbox sends the copy at once) as one still being published.
  const std::string metrics = suite_.Metrics("ingress");
  EXPECT_EQ(MetricValue(metrics,
                        "klaxon_webhook_requests_total{outcome=\"accepted\","
                        "route=\"message_status\",status=\"204\"}"),
            4);
  EXPECT_EQ(SeriesSum(metrics,
                      "klaxon_webhook_requests_total{outcome=\"duplicate\","
                      "route=\"message_status\"") +
                SeriesSum(metrics,
                          "klaxon_webhook_requests_total{outcome=\"in_flight\","
                          "route=\"message_status\""),
            2);
}

TEST_F(DeliveryReportsE2eKafkaRedisPostgresTest, AnsweredCallEndsDelivered) {
  const std::string alert_id = Send(types::v1::CHANNEL_VOICE, "+14155550141", "call");
  const Alert alert =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(alert.channel(), types::v1::CHANNEL_VOICE);
  EXPECT_THAT(alert.twilio_sid(), StartsWith("CA"));
  EXPECT_EQ(alert.twilio_error_code(), 0);
}

TEST_F(DeliveryReportsE2eKafkaRedisPostgresTest, UnansweredCallEndsUndeliveredNamingWhy) {
  suite_->AddSandboxFaults(
      R"({"type": "delivery", "kind": "call", "to": "+14155550142", "outcome": "no-answer"})");
  const std::string alert_id =
      Send(types::v1::CHANNEL_VOICE, "+14155550142", "no-answer", /*max_calls=*/1);
  const Alert alert =
      WaitForStatus(*suite_->QueryStub(), alert_id, types::v1::ALERT_STATUS_UNDELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_THAT(alert.reason(), HasSubstr("no-answer"));
  EXPECT_THAT(alert.reason(), HasSubstr("last of 1 calls"));
}

}  // namespace
}  // namespace klaxon::e2e::delivery_reports_test
