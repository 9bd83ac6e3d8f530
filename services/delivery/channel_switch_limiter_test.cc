#include "services/delivery/channel_switch_limiter.h"

#include <gtest/gtest.h>

#include "common/channels/in_memory_channel_switches.h"
#include "services/delivery/in_memory_send_limiter.h"

namespace klaxon::delivery {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr std::string_view kRecipient = "+14155550101";  // opened from the request's seal

events::v1::AlertRequested Request(types::v1::Channel channel) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id("a1");
  request.mutable_header()->set_attempt(1);
  request.mutable_header()->set_channel(channel);
  return request;
}

class ChannelSwitchLimiterTest : public ::testing::Test {
 protected:
  void TurnOff(types::v1::Channel channel, const std::string& reason) {
    ASSERT_TRUE(store_.TurnOff(channel, reason).ok());
    ASSERT_TRUE(switches_.Refresh().ok());
  }

  channels::InMemoryChannelSwitches store_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("channel-switches-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  channels::ChannelSwitchboard switches_{store_, logger_, registry_};
  InMemorySendLimiter inner_{{.sender_rate = {.count = 1, .window = absl::Seconds(1)},
                              .jitter_allowance = absl::ZeroDuration()}};
  ChannelSwitchLimiter limiter_{{.recheck = absl::Seconds(10)}, switches_, inner_};
};

TEST_F(ChannelSwitchLimiterTest, ChannelOnGoesToTheInnerLimits) {
  absl::StatusOr<LimitDecision> decision =
      limiter_.Reserve(Request(types::v1::CHANNEL_SMS), kRecipient, kNow);
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(decision->send_at, kNow);
}

TEST_F(ChannelSwitchLimiterTest, ChannelOffDefersWithoutReservingAnything) {
  TurnOff(types::v1::CHANNEL_SMS, "carrier outage");
  absl::StatusOr<LimitDecision> held =
      limiter_.Reserve(Request(types::v1::CHANNEL_SMS), kRecipient, kNow);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->kind, LimitDecision::Kind::kDefer);
  EXPECT_EQ(held->retry_at, kNow + absl::Seconds(10));
  EXPECT_EQ(held->limit, "channel_disabled");
  EXPECT_EQ(held->reason, "channel disabled (an operator switched sms off: carrier outage)");
  // The other channel is not held, and the held send took no pacing slot from the inner limits.
  ASSERT_TRUE(store_.TurnOn(types::v1::CHANNEL_SMS).ok());
  ASSERT_TRUE(switches_.Refresh().ok());
  absl::StatusOr<LimitDecision> resumed =
      limiter_.Reserve(Request(types::v1::CHANNEL_SMS), kRecipient, kNow);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->kind, LimitDecision::Kind::kSend);
  EXPECT_EQ(resumed->send_at, kNow);
}

TEST_F(ChannelSwitchLimiterTest, OnlyTheSwitchedOffChannelIsHeld) {
  TurnOff(types::v1::CHANNEL_VOICE, "maintenance");
  absl::StatusOr<LimitDecision> sms =
      limiter_.Reserve(Request(types::v1::CHANNEL_SMS), kRecipient, kNow);
  ASSERT_TRUE(sms.ok()) << sms.status();
  EXPECT_EQ(sms->kind, LimitDecision::Kind::kSend);
}

}  // namespace
}  // namespace klaxon::delivery
