// Quiet hours end to end (docs/adr/0026): through the real ingress, Kafka, Redis, sms-worker,
// audit and the Twilio sandbox, with quiet hours that end a few seconds after the suite starts,
// in Tokyo's local time. An alert to a Tokyo number waits as WAITING saying whose quiet hours, and
// reaches Twilio no earlier than their end; a critical one goes out at once; a Los Angeles number
// whose request names Asia/Tokyo waits too. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL. Labelled timing: it bounds by the wall clock when
// each alert reaches the sandbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::quiet_hours_test {
namespace {

using ::testing::HasSubstr;

constexpr char kZone[] = "Asia/Tokyo";
constexpr char kTokyoNumber[] = "+81312345678";
constexpr char kOtherTokyoNumber[] = "+81312345679";
constexpr char kLosAngelesNumber[] = "+14155550188";
// Long enough for the suite to start and the alerts to be sent before the quiet hours end.
constexpr absl::Duration kQuietLeft = absl::Seconds(20);
constexpr absl::Duration kWait = absl::Seconds(90);

class QuietHoursE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::TimeZone tokyo;
    ASSERT_TRUE(absl::LoadTimeZone(kZone, &tokyo));
    quiet_ends_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + kQuietLeft));
    const std::string window =
        absl::StrCat(absl::FormatTime("%H:%M:%S", quiet_ends_ - absl::Minutes(10), tokyo), "-",
                     absl::FormatTime("%H:%M:%S", quiet_ends_, tokyo), "@", kZone);
    ASSERT_NO_FATAL_FAILURE(suite_.Start({.env = {{"KLAXON_QUIET_HOURS", "*=" + window}}}));
  }

  std::string Send(const std::string& to, const std::string& key,
                   types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED,
                   const std::string& time_zone = "") {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(to);
    request.set_text("backup finished");
    request.set_idempotency_key(key);
    request.set_priority(priority);
    request.set_time_zone(time_zone);
    alerts::v1::SendAlertResponse sent;
    const grpc::Status status =
        suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return sent.alert_id();
  }

  std::vector<absl::Time> Arrivals(const std::string& to) const {
    return ReceivedTimes(suite_.LedgerTo(to, "message"));
  }

  Suite suite_;
  absl::Time quiet_ends_;
};

TEST_F(QuietHoursE2eKafkaRedisPostgresTest, AnAlertWaitsOutTheRecipientsQuietHoursUnlessCritical) {
  const std::string held = Send(kTokyoNumber, "quiet-held");
  const std::string critical =
      Send(kOtherTokyoNumber, "quiet-critical", types::v1::PRIORITY_CRITICAL);
  const std::string named_zone =
      Send(kLosAngelesNumber, "quiet-named-zone", types::v1::PRIORITY_UNSPECIFIED, kZone);
  ASSERT_LT(absl::Now(), quiet_ends_ - absl::Seconds(5))
      << "the suite took too long to start: the quiet hours nearly ended before the alerts";

  const alerts::v1::Alert waiting =
      WaitForStatus(*suite_.QueryStub(), held, types::v1::ALERT_STATUS_WAITING, kWait);
  EXPECT_EQ(waiting.status(), types::v1::ALERT_STATUS_WAITING) << waiting.reason();
  EXPECT_THAT(waiting.reason(), HasSubstr("the recipient's quiet hours ("));
  EXPECT_THAT(waiting.reason(), HasSubstr(" in Asia/Tokyo); not sent before "));
  const alerts::v1::Alert named =
      WaitForStatus(*suite_.QueryStub(), named_zone, types::v1::ALERT_STATUS_WAITING, kWait);
  EXPECT_THAT(named.reason(), HasSubstr("in Asia/Tokyo"));

  // The critical one is not held: delivered while the others still wait.
  const alerts::v1::Alert delivered_at_once =
      WaitForStatus(*suite_.QueryStub(), critical, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(delivered_at_once.status(), types::v1::ALERT_STATUS_DELIVERED);
  const std::vector<absl::Time> critical_arrivals = Arrivals(kOtherTokyoNumber);
  ASSERT_EQ(critical_arrivals.size(), 1u);
  EXPECT_LT(critical_arrivals[0], quiet_ends_);

  for (const auto& [alert_id, to] :
       {std::pair{held, kTokyoNumber}, std::pair{named_zone, kLosAngelesNumber}}) {
    const alerts::v1::Alert delivered =
        WaitForStatus(*suite_.QueryStub(), alert_id, types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED) << delivered.reason();
    const std::vector<absl::Time> arrivals = Arrivals(to);
    ASSERT_EQ(arrivals.size(), 1u) << to;
    EXPECT_GE(arrivals[0], quiet_ends_) << to;
    EXPECT_LT(arrivals[0], quiet_ends_ + absl::Seconds(10)) << to;
  }
}

}  // namespace
}  // namespace klaxon::e2e::quiet_hours_test
