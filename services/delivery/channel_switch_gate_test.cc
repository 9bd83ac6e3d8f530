#include "services/delivery/channel_switch_gate.h"

#include <gtest/gtest.h>

#include "common/channels/in_memory_channel_switches.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "services/delivery/dispatcher_test_ports.h"
#include "services/delivery/in_memory_send_limiter.h"
#include "services/delivery/stepwise_send_gate.h"

namespace klaxon::delivery {
namespace {

const absl::Time kCheckedAt = absl::FromUnixSeconds(1'700'000'000);
constexpr char kGatedSender[] = "+14155550000";
constexpr std::string_view kRecipient = "+14155550101";  // opened from the request's seal
const PacedSender kPaced{.address = kGatedSender, .rate = {.count = 1, .window = absl::Seconds(1)}};
const GateChecks kSmsChecks{.suppression = true, .reserve_among = {&kPaced, 1}};

events::v1::AlertRequested RequestOn(types::v1::Channel channel,
                                     const std::string& alert_id = "a1") {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(alert_id);
  request.mutable_header()->set_attempt(1);
  request.mutable_header()->set_channel(channel);
  return request;
}

class ChannelSwitchGateTest : public ::testing::Test {
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
  stopped_alerts::InMemoryStoppedAlerts stops_;
  test_ports::InMemorySuppressionList suppressions_;
  InMemorySendLimiter limiter_{{.senders = {kPaced}, .jitter_allowance = absl::ZeroDuration()}};
  test_ports::InMemoryInFlightLimit in_flight_;
  StepwiseSendGate inner_{stops_, suppressions_, limiter_, in_flight_};
  ChannelSwitchGate gate_{{.recheck = absl::Seconds(10)}, switches_, inner_};
};

TEST_F(ChannelSwitchGateTest, ChannelOnGoesToTheInnerGate) {
  absl::StatusOr<GateDecision> decision =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->kind, GateDecision::Kind::kCleared);
}

TEST_F(ChannelSwitchGateTest, ChannelOffDefersWithoutReservingAnything) {
  TurnOff(types::v1::CHANNEL_SMS, "carrier outage");
  absl::StatusOr<GateDecision> held =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->kind, GateDecision::Kind::kDeferred);
  EXPECT_EQ(held->limit.retry_at, kCheckedAt + absl::Seconds(10));
  EXPECT_EQ(held->limit.limit, "channel_disabled");
  EXPECT_EQ(held->limit.reason, "channel disabled (an operator switched sms off: carrier outage)");
  EXPECT_EQ(in_flight_.in_flight(), 0);
  // The held send took no pacing slot from the inner limits.
  ASSERT_TRUE(store_.TurnOn(types::v1::CHANNEL_SMS).ok());
  ASSERT_TRUE(switches_.Refresh().ok());
  absl::StatusOr<GateDecision> resumed =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->kind, GateDecision::Kind::kCleared);
}

TEST_F(ChannelSwitchGateTest, StoppedAlertOnASwitchedOffChannelIsStillStopped) {
  TurnOff(types::v1::CHANNEL_SMS, "carrier outage");
  ASSERT_TRUE(stops_.Stop("a1", stopped_alerts::StopReason::kCancelled, absl::Hours(1)).ok());
  absl::StatusOr<GateDecision> decision =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->kind, GateDecision::Kind::kStopped);
}

TEST_F(ChannelSwitchGateTest, SuppressedRecipientOnASwitchedOffChannelIsStillSuppressed) {
  TurnOff(types::v1::CHANNEL_SMS, "carrier outage");
  ASSERT_TRUE(suppressions_.Suppress(kRecipient, kCheckedAt).ok());
  absl::StatusOr<GateDecision> decision =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->kind, GateDecision::Kind::kSuppressed);
}

TEST_F(ChannelSwitchGateTest, UnaskedToReserveTheInnerAnswerStands) {
  TurnOff(types::v1::CHANNEL_SMS, "carrier outage");
  absl::StatusOr<GateDecision> decision =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, GateChecks{});
  ASSERT_TRUE(decision.ok()) << decision.status();
  EXPECT_EQ(decision->kind, GateDecision::Kind::kUnreserved);
}

TEST_F(ChannelSwitchGateTest, OnlyTheSwitchedOffChannelIsHeld) {
  TurnOff(types::v1::CHANNEL_VOICE, "maintenance");
  absl::StatusOr<GateDecision> sms =
      gate_.Open(RequestOn(types::v1::CHANNEL_SMS), kRecipient, kCheckedAt, kSmsChecks);
  ASSERT_TRUE(sms.ok()) << sms.status();
  EXPECT_EQ(sms->kind, GateDecision::Kind::kCleared);
}

}  // namespace
}  // namespace klaxon::delivery
