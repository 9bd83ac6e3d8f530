// AlertIntake with quiet hours (docs/adr/0026): an alert the recipient's quiet hours hold is
// accepted and published at once, to be sent at their end, with its time to live counted from
// then; an exempt priority, or a code the recipient is waiting for, goes out at once.
#include <gtest/gtest.h>

#include "common/prototime/prototime.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using testing::Request;
using testing::SendAndWait;

// The harness's clock reads 2023-11-14 22:13:20 UTC: 14:13:20 for the request's Los Angeles
// number, inside this caller's afternoon quiet hours.
const absl::Time kQuietEnds = absl::FromUnixSeconds(1'700'002'800);  // 15:00 in Los Angeles

class AlertIntakeQuietHoursTest : public ::testing::Test {
 protected:
  events::v1::AlertRequested Published(size_t index = 0) {
    events::v1::AlertRequested event;
    EXPECT_TRUE(event.ParseFromString(harness_.publisher().published().at(index).value));
    return event;
  }

  QuietHours quiet_ = QuietHours::Parse("oncall=14:00-15:00@UTC", "high").value();
  testing::IntakeHarness harness_{{.quiet_hours = &quiet_}};
};

TEST_F(AlertIntakeQuietHoursTest, AnAlertInTheRecipientsQuietHoursIsAcceptedAndHeldToTheirEnd) {
  alerts::v1::SendAlertRequest request = Request("k1");
  request.mutable_ttl()->set_seconds(600);
  ASSERT_TRUE(SendAndWait(harness_.intake(), "oncall", request).ok());
  const events::v1::AlertRequested event = Published();
  EXPECT_EQ(prototime::FromProto(event.send_at()), kQuietEnds);
  EXPECT_EQ(prototime::FromProto(event.not_before()), kQuietEnds);
  EXPECT_EQ(prototime::FromProto(event.deadline()), kQuietEnds + absl::Minutes(10));
  EXPECT_EQ(event.quiet_hours(), "14:00-15:00 in America/Los_Angeles");
}

TEST_F(AlertIntakeQuietHoursTest, AScheduledAlertLandingInQuietHoursWaitsForTheirEnd) {
  // Asked for 14:30 tomorrow, Los Angeles time: still quiet then.
  alerts::v1::SendAlertRequest request = Request("k1");
  *request.mutable_send_at() = prototime::ToProto(kQuietEnds + absl::Hours(24) - absl::Minutes(30));
  ASSERT_TRUE(SendAndWait(harness_.intake(), "oncall", request).ok());
  EXPECT_EQ(prototime::FromProto(Published().send_at()), kQuietEnds + absl::Hours(24));
}

TEST_F(AlertIntakeQuietHoursTest, TheRequestsTimeZoneDecides) {
  alerts::v1::SendAlertRequest request = Request("k1");
  request.set_time_zone("Europe/Berlin");  // 23:13 there: outside the afternoon window
  ASSERT_TRUE(SendAndWait(harness_.intake(), "oncall", request).ok());
  EXPECT_FALSE(Published().has_send_at());
  EXPECT_EQ(Published().quiet_hours(), "");
}

TEST_F(AlertIntakeQuietHoursTest, ExemptPrioritiesAndOtherCallersGoOutAtOnce) {
  alerts::v1::SendAlertRequest critical = Request("k1");
  critical.set_priority(types::v1::PRIORITY_CRITICAL);
  ASSERT_TRUE(SendAndWait(harness_.intake(), "oncall", critical).ok());
  EXPECT_FALSE(Published(0).has_send_at());
  ASSERT_TRUE(SendAndWait(harness_.intake(), "billing", Request("k2")).ok());
  EXPECT_FALSE(Published(1).has_send_at());
}

TEST_F(AlertIntakeQuietHoursTest, ACodeTheRecipientIsWaitingForIsNotHeld) {
  const alerts::v1::SendAlertRequest request = Request("k1");
  bool answered = false;
  harness_.intake().Send("oncall", request, {.awaited_by_recipient = true},
                         [&answered](absl::StatusOr<alerts::v1::SendAlertResponse> response) {
                           EXPECT_TRUE(response.ok()) << response.status();
                           answered = true;
                         });
  ASSERT_TRUE(answered);
  EXPECT_FALSE(Published().has_send_at());
}

TEST_F(AlertIntakeQuietHoursTest, AnUnknownTimeZoneIsRefusedNamingTheField) {
  for (const char* zone : {"Mars/Olympus_Mons", "../../etc/passwd", "Europe/../UTC"}) {
    alerts::v1::SendAlertRequest request = Request("k1");
    request.set_time_zone(zone);
    const absl::Status refused = SendAndWait(harness_.intake(), "oncall", request).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << zone;
    EXPECT_EQ(refused.message().substr(0, 10), "time_zone:") << zone;
  }
  EXPECT_TRUE(harness_.publisher().published().empty());
}

}  // namespace
}  // namespace klaxon::ingress
