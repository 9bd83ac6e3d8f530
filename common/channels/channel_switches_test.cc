#include "common/channels/channel_switches.h"

#include "common/channels/in_memory_channel_switches.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::channels {
namespace {

using ::testing::HasSubstr;
using types::v1::CHANNEL_SMS;
using types::v1::CHANNEL_VOICE;

class ChannelSwitchboardTest : public ::testing::Test {
 protected:
  // klaxon_channel_enabled{channel}, or -1 when absent.
  double Enabled(const std::string& channel) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_channel_enabled") continue;
      for (const auto& metric : family.metric) {
        for (const auto& label : metric.label) {
          if (label.name == "channel" && label.value == channel) return metric.gauge.value;
        }
      }
    }
    return -1;
  }

  InMemoryChannelSwitches store_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("channel-switches-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  ChannelSwitchboard board_{store_, logger_, registry_};
};

TEST_F(ChannelSwitchboardTest, EveryChannelIsOnAtFirst) {
  EXPECT_TRUE(board_.CheckOn(CHANNEL_SMS).ok());
  EXPECT_TRUE(board_.CheckOn(CHANNEL_VOICE).ok());
  EXPECT_EQ(Enabled("sms"), 1);
  EXPECT_EQ(Enabled("voice"), 1);
}

TEST_F(ChannelSwitchboardTest, SwitchedOffChannelIsRefusedNamingTheSwitchAndReason) {
  ASSERT_TRUE(store_.TurnOff(CHANNEL_SMS, "carrier outage").ok());
  ASSERT_TRUE(board_.Refresh().ok());
  const absl::Status refused = board_.CheckOn(CHANNEL_SMS);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("channel disabled: the sms switch is off"));
  EXPECT_THAT(refused.message(), HasSubstr("carrier outage"));
  EXPECT_EQ(board_.OffReason(CHANNEL_SMS), "carrier outage");
  EXPECT_TRUE(board_.CheckOn(CHANNEL_VOICE).ok());
  EXPECT_EQ(Enabled("sms"), 0);
  EXPECT_EQ(Enabled("voice"), 1);
}

TEST_F(ChannelSwitchboardTest, StoreChangesShowOnlyAfterARefresh) {
  ASSERT_TRUE(store_.TurnOff(CHANNEL_VOICE, "maintenance").ok());
  EXPECT_TRUE(board_.CheckOn(CHANNEL_VOICE).ok());
  ASSERT_TRUE(board_.Refresh().ok());
  EXPECT_FALSE(board_.CheckOn(CHANNEL_VOICE).ok());
  ASSERT_TRUE(store_.TurnOn(CHANNEL_VOICE).ok());
  ASSERT_TRUE(board_.Refresh().ok());
  EXPECT_TRUE(board_.CheckOn(CHANNEL_VOICE).ok());
  EXPECT_EQ(Enabled("voice"), 1);
}

TEST_F(ChannelSwitchboardTest, UnreadableStoreKeepsTheLastKnownState) {
  ASSERT_TRUE(store_.TurnOff(CHANNEL_SMS, "carrier outage").ok());
  ASSERT_TRUE(board_.Refresh().ok());
  store_.FailWith(absl::UnavailableError("Redis is down"));
  EXPECT_EQ(board_.Refresh().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(board_.CheckOn(CHANNEL_SMS).ok());
  EXPECT_TRUE(board_.CheckOn(CHANNEL_VOICE).ok());
}

TEST(ChannelNameTest, ParsesTheSwitchedChannelsOnly) {
  EXPECT_EQ(ParseChannelName("sms").value(), CHANNEL_SMS);
  EXPECT_EQ(ParseChannelName("voice").value(), CHANNEL_VOICE);
  EXPECT_EQ(ParseChannelName("fax").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChannelName(types::v1::CHANNEL_UNSPECIFIED), "");
}

}  // namespace
}  // namespace klaxon::channels
