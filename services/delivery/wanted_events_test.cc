#include "services/delivery/wanted_events.h"

#include <gtest/gtest.h>

#include <string>

namespace klaxon::delivery {
namespace {

using events::v1::TwilioEvent;

messaging::InboundMessage MessageOf(const TwilioEvent& event) {
  return {.topic = "klaxon.twilio.events", .value = event.SerializeAsString()};
}

TEST(TwilioEventsOfTest, WantsOnlyTheKindsNamed) {
  const auto wants = TwilioEventsOf({TwilioEvent::kOptOut, TwilioEvent::kInboundMessage});
  TwilioEvent opt_out;
  opt_out.mutable_opt_out();
  TwilioEvent inbound;
  inbound.mutable_inbound_message();
  TwilioEvent status;
  status.mutable_message_status()->set_message_status("delivered");
  TwilioEvent charge;
  charge.mutable_charge();

  EXPECT_TRUE(wants(MessageOf(opt_out)));
  EXPECT_TRUE(wants(MessageOf(inbound)));
  EXPECT_FALSE(wants(MessageOf(status)));
  EXPECT_FALSE(wants(MessageOf(charge)));
  EXPECT_FALSE(wants(MessageOf(TwilioEvent())));  // no body at all
}

TEST(TwilioEventsOfTest, PassesAMessageThatIsNoTwilioEventToItsHandler) {
  const auto wants = TwilioEventsOf({TwilioEvent::kCallStatus});
  EXPECT_TRUE(wants({.topic = "klaxon.twilio.events", .value = std::string("\xff\xff\xff", 3)}));
}

}  // namespace
}  // namespace klaxon::delivery
