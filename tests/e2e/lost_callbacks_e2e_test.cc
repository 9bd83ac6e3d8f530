// Lost status callbacks end to end (docs/adr/0007, "Lost callbacks", and docs/adr/0014), and what
// each attempt cost (docs/adr/0036). In the lost-callback tests the workers name a webhook URL
// where nothing listens, so every status callback the sandbox posts fails and, as with Twilio, is
// tried once more and lost. The alert still reaches its final status, because each accepted
// attempt's status is read back from the sandbox and published as the callback would have been;
// nothing is sent twice. When the callbacks do reach ingress, the status checks read the sandbox
// only for what each attempt cost. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"

namespace klaxon::e2e::lost_callbacks_test {
namespace {

using alerts::v1::Alert;

// Consumer group joins on a loaded two-core machine, then a few status checks.
constexpr absl::Duration kWait = absl::Seconds(90);

class StatusCheckE2eTest : public ::testing::Test {
 protected:
  std::string Send(alerts::v1::SendAlertRequest request, const std::string& key) {
    request.set_text("disk full on db-1");
    request.set_idempotency_key(key);
    return suite_.SendAlert(request);
  }

  int LedgerCount(const std::string& to, const std::string& kind) const {
    int count = 0;
    for (const nlohmann::json& entry : suite_.Ledger()) {
      if (entry.value("to", "") == to && entry.value("kind", "") == kind) ++count;
    }
    return count;
  }

  // Messages or calls a worker's status checks read from the sandbox.
  double StatusReads(const std::string& worker, const std::string& channel) const {
    return MetricValue(
        suite_.Metrics(worker),
        absl::StrCat("klaxon_delivery_status_reads_total{channel=\"", channel, "\"}"));
  }

  Suite suite_;
};

// Callbacks go nowhere, and Twilio is read for every attempt 1 s after its acceptance.
class LostCallbacksE2eKafkaRedisPostgresTest : public StatusCheckE2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.worker_env = {{"KLAXON_WEBHOOK_PUBLIC_URL",
                                      absl::StrCat("http://127.0.0.1:", testing::FreePort())},
                                     {"KLAXON_STATUS_CHECK_AFTER", "1s"}}}));
  }
};

TEST_F(LostCallbacksE2eKafkaRedisPostgresTest, SmsReachesDeliveredThroughTheStatusCheck) {
  constexpr char kTo[] = "+14155550301";
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient(kTo);
  const std::string alert_id = Send(request, "lost-sms");
  const Alert alert =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert.DebugString();
  EXPECT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(LedgerCount(kTo, "message"), 1);
  EXPECT_GE(StatusReads("sms-worker", "sms"), 1);
}

TEST_F(LostCallbacksE2eKafkaRedisPostgresTest, UnansweredCallEscalatesThroughTheStatusCheck) {
  constexpr char kTo[] = "+14155550302";
  suite_.AddSandboxFaults(R"({"type": "delivery", "kind": "call", "to": "+14155550302",
                              "outcome": "no-answer"})");
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_VOICE);
  request.set_recipient(kTo);
  request.mutable_voice()->set_max_calls(2);
  request.mutable_voice()->set_sms_fallback(false);
  *request.mutable_voice()->mutable_call_spacing() =
      google::protobuf::util::TimeUtil::SecondsToDuration(1);
  const std::string alert_id = Send(request, "lost-call");
  const Alert alert =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_UNDELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_UNDELIVERED) << alert.DebugString();
  EXPECT_EQ(alert.attempts_size(), 2);
  EXPECT_THAT(alert.reason(), ::testing::HasSubstr("last of 2 calls"));
  EXPECT_EQ(LedgerCount(kTo, "call"), 2);
  EXPECT_GE(StatusReads("voice-worker", "voice"), 2);
}

// Checks every second from the acceptance on; Twilio is read without a sign of a lost callback
// only after the default 5 minutes, far beyond these tests.
std::map<std::string, std::string> FrequentChecks() {
  return {{"KLAXON_STATUS_CHECK_FIRST", "1s"}};
}

class StatusChecksE2eKafkaRedisPostgresTest : public StatusCheckE2eTest {};

// The alert's first attempt once audit shows what Twilio charged for it.
Alert WaitForCharge(const Suite& suite, const std::string& alert_id) {
  return e2e::WaitForCharge(*suite.QueryStub(), alert_id, kWait);
}

// Callbacks arrive, so no status is read from the sandbox; each attempt is read once for what it
// cost (ADR 0036), which GetAlert, GetDeliveryReport and the workers' metrics then show.
TEST_F(StatusChecksE2eKafkaRedisPostgresTest, WithCallbacksArrivingOnlyTheChargeIsReadFromTwilio) {
  ASSERT_NO_FATAL_FAILURE(suite_.Start({.worker_env = FrequentChecks()}));
  // Ingress notes a possible loss when it starts (it may have missed callbacks while down), and
  // the checks read an attempt accepted up to 5 s after a loss (clock skew between hosts). Past
  // that margin, these alerts' only evidence is what arrives.
  absl::SleepFor(absl::Seconds(6));
  const absl::Time sent_from = absl::Now();
  alerts::v1::SendAlertRequest sms;
  sms.set_channel(types::v1::CHANNEL_SMS);
  sms.set_recipient("+14155550303");
  sms.set_text(std::string(161, 'a'));  // two GSM-7 segments
  sms.set_idempotency_key("flowing-sms");
  const std::string sms_id = suite_.SendAlert(sms);
  alerts::v1::SendAlertRequest call;
  call.set_channel(types::v1::CHANNEL_VOICE);
  call.set_recipient("+14155550305");
  call.set_text("disk full on db-1");
  call.set_idempotency_key("flowing-call");
  const std::string call_id = suite_.SendAlert(call);

  // The sandbox's prices: 0.0079 USD a segment and 0.014 USD a started minute for +1; the
  // suite's calls last 1 s (TWILIO_SANDBOX_CALL_DURATION_S). The suite's one account is "default".
  const Alert sms_alert = WaitForCharge(suite_, sms_id);
  EXPECT_EQ(sms_alert.status(), types::v1::ALERT_STATUS_DELIVERED) << sms_alert.DebugString();
  ASSERT_EQ(sms_alert.attempts_size(), 1);
  EXPECT_EQ(sms_alert.attempts(0).charge().amount(), "0.0158");
  EXPECT_EQ(sms_alert.attempts(0).charge().currency(), "USD");
  EXPECT_EQ(sms_alert.attempts(0).charge().segments(), 2u);
  EXPECT_EQ(sms_alert.attempts(0).charge().twilio_account(), "default");
  const Alert call_alert = WaitForCharge(suite_, call_id);
  ASSERT_GE(call_alert.attempts_size(), 1);
  EXPECT_EQ(call_alert.attempts(0).charge().amount(), "0.014");
  EXPECT_EQ(call_alert.attempts(0).charge().duration_seconds(), 1u);

  alerts::v1::GetDeliveryReportRequest period;
  *period.mutable_from() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(sent_from - absl::Minutes(1)));
  *period.mutable_before() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(absl::Now() + absl::Minutes(1)));
  alerts::v1::DeliveryReport report;
  const grpc::Status rpc =
      suite_.QueryStub()->GetDeliveryReport(Suite::CallContext().get(), period, &report);
  ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  ASSERT_EQ(report.costs_size(), 2) << report.DebugString();
  EXPECT_EQ(report.costs(0).channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(report.costs(0).amount(), "0.0158");
  EXPECT_EQ(report.costs(0).segments(), 2);
  EXPECT_EQ(report.costs(1).channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(report.costs(1).amount(), "0.014");

  EXPECT_DOUBLE_EQ(
      MetricValue(
          suite_.Metrics("sms-worker"),
          R"(klaxon_twilio_cost_total{account="default",caller="e2e",channel="sms",currency="USD"})"),
      0.0158);
  EXPECT_DOUBLE_EQ(
      MetricValue(suite_.Metrics("sms-worker"),
                  R"(klaxon_twilio_segments_total{account="default",caller="e2e",channel="sms"})"),
      2);
  EXPECT_EQ(MetricValue(suite_.Metrics("sms-worker"),
                        R"(klaxon_delivery_status_checks_total{channel="sms",result="charged"})"),
            1);
  EXPECT_EQ(StatusReads("sms-worker", "sms"), 0);
  EXPECT_EQ(StatusReads("voice-worker", "voice"), 0);
}

TEST_F(StatusChecksE2eKafkaRedisPostgresTest, ALossAfterTheAcceptanceIsReadLongBeforeFiveMinutes) {
  std::map<std::string, std::string> worker_env = FrequentChecks();
  worker_env["KLAXON_WEBHOOK_PUBLIC_URL"] = absl::StrCat("http://127.0.0.1:", testing::FreePort());
  ASSERT_NO_FATAL_FAILURE(suite_.Start({.worker_env = worker_env}));
  constexpr char kTo[] = "+14155550304";
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient(kTo);
  const std::string alert_id = Send(request, "lost-then-restarted");
  const absl::Time give_up = absl::Now() + kWait;
  while (LedgerCount(kTo, "message") == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(LedgerCount(kTo, "message"), 1);
  // Its callbacks went nowhere. Ingress restarting may have missed callbacks, so it says so.
  ASSERT_NO_FATAL_FAILURE(suite_.RestartService("ingress", {}));
  const Alert alert =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED) << alert.DebugString();
  EXPECT_GE(StatusReads("sms-worker", "sms"), 1);
  EXPECT_EQ(LedgerCount(kTo, "message"), 1);
}

}  // namespace
}  // namespace klaxon::e2e::lost_callbacks_test
