// AlertIntake with the channel switches: a switched-off channel refuses new alerts, names the
// switch, publishes nothing, and takes them again once switched on.
#include <gtest/gtest.h>

#include "common/channels/in_memory_channel_switches.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using testing::SendAndWait;

using testing::Request;

class AlertIntakeSwitchTest : public ::testing::Test {
 protected:
  void Switch(types::v1::Channel channel, bool on) {
    ASSERT_TRUE((on ? store_.TurnOn(channel) : store_.TurnOff(channel, "carrier outage")).ok());
    ASSERT_TRUE(switches_.Refresh().ok());
  }

  channels::InMemoryChannelSwitches store_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("channel-switches-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  channels::ChannelSwitchboard switches_{store_, logger_, registry_};
  testing::IntakeHarness harness_{{.switches = &switches_}};
  AlertIntake& intake_ = harness_.intake();
  messaging::FakePublisher& publisher_ = harness_.publisher();
};

TEST_F(AlertIntakeSwitchTest, SwitchedOffChannelIsRefusedNamingTheSwitch) {
  Switch(types::v1::CHANNEL_SMS, false);
  const absl::Status refused =
      SendAndWait(intake_, "billing", Request("k1", types::v1::CHANNEL_SMS)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("the sms switch is off (carrier outage)"),
            absl::string_view::npos)
      << refused;
  EXPECT_TRUE(publisher_.published().empty());
  // The other channel is unaffected.
  EXPECT_TRUE(SendAndWait(intake_, "billing", Request("k2", types::v1::CHANNEL_VOICE)).ok());
}

TEST_F(AlertIntakeSwitchTest, RefusedRequestIsAcceptedOnceSwitchedOn) {
  Switch(types::v1::CHANNEL_SMS, false);
  ASSERT_FALSE(SendAndWait(intake_, "billing", Request("k1", types::v1::CHANNEL_SMS)).ok());
  Switch(types::v1::CHANNEL_SMS, true);
  absl::StatusOr<alerts::v1::SendAlertResponse> accepted =
      SendAndWait(intake_, "billing", Request("k1", types::v1::CHANNEL_SMS));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AlertIntakeSwitchTest, RepeatOfAnAcceptedAlertStillAnswersWhileSwitchedOff) {
  absl::StatusOr<alerts::v1::SendAlertResponse> first =
      SendAndWait(intake_, "billing", Request("k1", types::v1::CHANNEL_SMS));
  ASSERT_TRUE(first.ok()) << first.status();
  Switch(types::v1::CHANNEL_SMS, false);
  absl::StatusOr<alerts::v1::SendAlertResponse> repeat =
      SendAndWait(intake_, "billing", Request("k1", types::v1::CHANNEL_SMS));
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_EQ(repeat->alert_id(), first->alert_id());
}

}  // namespace
}  // namespace klaxon::ingress
