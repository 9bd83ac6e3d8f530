// AlertIntake and priority (docs/adr/0027): a critical alert is published to its channel's urgent
// request topic, which workers drain apart from the normal one; the priority travels with it.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using testing::Request;
using testing::SendAndWait;

TEST(AlertIntakePriorityTest, ACriticalAlertTakesItsChannelsUrgentTopic) {
  testing::IntakeHarness harness({});
  const struct {
    types::v1::Channel channel;
    types::v1::Priority priority;
    const char* topic;
  } cases[] = {
      {types::v1::CHANNEL_SMS, types::v1::PRIORITY_CRITICAL, "t.sms.urgent"},
      {types::v1::CHANNEL_VOICE, types::v1::PRIORITY_CRITICAL, "t.voice.urgent"},
      {types::v1::CHANNEL_SMS, types::v1::PRIORITY_HIGH, "t.sms"},
      {types::v1::CHANNEL_SMS, types::v1::PRIORITY_UNSPECIFIED, "t.sms"},
  };
  int key = 0;
  for (const auto& c : cases) {
    alerts::v1::SendAlertRequest request = Request(absl::StrCat("k", ++key), c.channel);
    request.set_priority(c.priority);
    ASSERT_TRUE(SendAndWait(harness.intake(), "oncall", request).ok());
    const messaging::OutboundMessage published = harness.publisher().published().back();
    EXPECT_EQ(published.topic, c.topic) << key;
    events::v1::AlertRequested event;
    ASSERT_TRUE(event.ParseFromString(published.value));
    EXPECT_EQ(event.priority(), c.priority) << key;
  }
}

}  // namespace
}  // namespace klaxon::ingress
