#include "services/delivery/wanted_events.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace klaxon::delivery {
namespace {

using events::v1::TwilioEvent;

constexpr std::array kReplies = {TwilioEvent::kOptOut};
constexpr std::array kMessages = {TwilioEvent::kInboundMessage};

messaging::InboundMessage MessageOf(const TwilioEvent& event) {
  return {.topic = "klaxon.twilio.events", .value = event.SerializeAsString()};
}

TEST(TwilioEventsOfTest, WantsEveryKindOfEveryListNamed) {
  const messaging::MessageFilter wants = TwilioEventsOf({kReplies, kMessages});
  TwilioEvent opt_out;
  opt_out.mutable_opt_out();
  TwilioEvent inbound;
  inbound.mutable_inbound_message();
  EXPECT_TRUE(wants(MessageOf(opt_out)));
  EXPECT_TRUE(wants(MessageOf(inbound)));
}

TEST(TwilioEventsOfTest, RefusesTheKindsNotNamedAndAnEventWithoutABody) {
  const messaging::MessageFilter wants = TwilioEventsOf({kReplies, kMessages});
  TwilioEvent status;
  status.mutable_message_status()->set_message_status("delivered");
  TwilioEvent charge;
  charge.mutable_charge();
  EXPECT_FALSE(wants(MessageOf(status)));
  EXPECT_FALSE(wants(MessageOf(charge)));
  EXPECT_FALSE(wants(MessageOf(TwilioEvent())));
}

TEST(TwilioEventsOfTest, PassesAMessageThatIsNoTwilioEventToItsHandler) {
  const messaging::MessageFilter wants = TwilioEventsOf({kReplies});
  EXPECT_TRUE(wants({.topic = "klaxon.twilio.events", .value = std::string("\xff\xff\xff", 3)}));
}

}  // namespace
}  // namespace klaxon::delivery
