// Scheduled alerts end to end (SendAlert's send_at, docs/adr/0025): through the real ingress,
// Kafka, Redis, sms-worker, audit and the Twilio sandbox, an alert scheduled a few seconds ahead
// waits as WAITING, reaches Twilio no earlier than its time, and is delivered; one cancelled
// while it waits never reaches Twilio; a scheduled SMS and call outlive a crash of every service
// while they wait (the hold is on Kafka, docs/adr/0025). Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL. Labelled timing: it bounds by the wall clock when the
// alert reaches the sandbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::scheduled_alert_test {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kAhead = absl::Seconds(6);
constexpr absl::Duration kWait = absl::Seconds(60);

class ScheduledAlertE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(suite_.Start()); }

  // Schedules an SMS (or a call) to `to` for `send_at`; returns its alert id.
  std::string Schedule(const std::string& to, const std::string& key, absl::Time send_at,
                       types::v1::Channel channel = types::v1::CHANNEL_SMS) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(to);
    request.set_text("maintenance window starts");
    request.set_idempotency_key(key);
    request.mutable_send_at()->set_seconds(absl::ToUnixSeconds(send_at));
    alerts::v1::SendAlertResponse sent;
    const grpc::Status status =
        suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return sent.alert_id();
  }

  // When the sandbox received each message to `to`.
  std::vector<absl::Time> Arrivals(const std::string& to) const {
    return ReceivedTimes(suite_.LedgerTo(to, "message"));
  }

  Suite suite_;
};

TEST_F(ScheduledAlertE2eKafkaRedisPostgresTest, IsWaitingUntilItsTimeThenSentAndDelivered) {
  constexpr char kTo[] = "+14155550181";
  // Whole seconds, as the request carries them.
  const absl::Time send_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + kAhead));
  const std::string alert_id = Schedule(kTo, "scheduled-on-time", send_at);

  const alerts::v1::Alert waiting =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_WAITING, kWait);
  EXPECT_EQ(waiting.status(), types::v1::ALERT_STATUS_WAITING) << waiting.reason();
  EXPECT_THAT(waiting.reason(), HasSubstr("scheduled by the caller; not sent before "));
  EXPECT_TRUE(Arrivals(kTo).empty()) << "sent before its time";

  const alerts::v1::Alert delivered =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED) << delivered.reason();
  const std::vector<absl::Time> arrivals = Arrivals(kTo);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_GE(arrivals[0], send_at);
  // On time: held by a timer, not a polling interval.
  EXPECT_LT(arrivals[0], send_at + absl::Seconds(10));
}

TEST_F(ScheduledAlertE2eKafkaRedisPostgresTest, CancelledWhileWaitingIsNeverSent) {
  constexpr char kTo[] = "+14155550182";
  const std::string alert_id = Schedule(kTo, "scheduled-cancelled", absl::Now() + kAhead);
  alerts::v1::CancelAlertRequest cancel;
  cancel.set_alert_id(alert_id);
  alerts::v1::CancelAlertResponse response;
  const grpc::Status cancelled =
      suite_.IntakeStub()->CancelAlert(Suite::CallContext().get(), cancel, &response);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error_message();

  const alerts::v1::Alert alert =
      WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_CANCELLED, kWait);
  EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_CANCELLED) << alert.reason();
  EXPECT_TRUE(Arrivals(kTo).empty());
}

TEST_F(ScheduledAlertE2eKafkaRedisPostgresTest, OutlivesACrashOfEveryServiceWhileItWaits) {
  constexpr char kSmsTo[] = "+14155550184";
  constexpr char kCallTo[] = "+14155550185";
  // Far enough ahead for four crashes and restarts, each waiting until the service is ready, and
  // for Kafka to give a killed worker's partitions to its restarted self (once the dead member's
  // session ran out, KLAXON_KAFKA_SESSION_TIMEOUT's 10 s): the restarted worker reads the alert
  // before its time and must hold it too.
  const absl::Time send_at =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Seconds(40)));
  const std::string sms_id = Schedule(kSmsTo, "scheduled-crash-sms", send_at);
  const std::string call_id =
      Schedule(kCallTo, "scheduled-crash-call", send_at, types::v1::CHANNEL_VOICE);
  for (const std::string& id : {sms_id, call_id}) {
    EXPECT_EQ(
        WaitForStatus(*suite_.QueryStub(), id, types::v1::ALERT_STATUS_WAITING, kWait).status(),
        types::v1::ALERT_STATUS_WAITING);
  }

  for (const char* service : {"sms-worker", "voice-worker", "ingress", "audit"}) {
    SCOPED_TRACE(service);
    ASSERT_NO_FATAL_FAILURE(suite_.CrashAndRestart(service));
  }
  ASSERT_LT(absl::Now(), send_at) << "the crashes took longer than the hold; nothing was tested";
  EXPECT_TRUE(Arrivals(kSmsTo).empty()) << "sent before its time";

  const absl::Duration until_sent = send_at - absl::Now() + kWait;
  EXPECT_EQ(
      WaitForStatus(*suite_.QueryStub(), sms_id, types::v1::ALERT_STATUS_DELIVERED, until_sent)
          .status(),
      types::v1::ALERT_STATUS_DELIVERED);
  WaitForStatus(*suite_.QueryStub(), call_id, types::v1::ALERT_STATUS_SENT, kWait);
  // Read once both were sent, so a second copy of either, held by a consumer that restarted,
  // has had its moment too.
  const std::vector<absl::Time> arrivals = Arrivals(kSmsTo);
  ASSERT_EQ(arrivals.size(), 1u) << "sent once";
  EXPECT_GE(arrivals[0], send_at);
  const std::vector<absl::Time> placed = ReceivedTimes(suite_.LedgerTo(kCallTo, "call"));
  ASSERT_EQ(placed.size(), 1u) << "called once";
  EXPECT_GE(placed[0], send_at);
}

TEST_F(ScheduledAlertE2eKafkaRedisPostgresTest, MoreThanSevenDaysAheadIsRefusedNamingTheField) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550183");
  request.set_text("too early");
  request.set_idempotency_key("scheduled-too-far");
  request.mutable_send_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 8)));
  alerts::v1::SendAlertResponse sent;
  const grpc::Status status =
      suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("send_at: must be at most 168h ahead"));
}

}  // namespace
}  // namespace klaxon::e2e::scheduled_alert_test
