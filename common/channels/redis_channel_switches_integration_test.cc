// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). The switches as every
// replica sees them: two boards over one Redis.
#include <gtest/gtest.h>

#include <memory>

#include "common/channels/redis_channel_switches.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::channels {
namespace {

using types::v1::CHANNEL_SMS;
using types::v1::CHANNEL_VOICE;

class RedisChannelSwitchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);
    switches_ = std::make_unique<RedisChannelSwitches>(*redis_, prefix_);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::string prefix_;
  std::unique_ptr<RedisChannelSwitches> switches_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("channel-switches-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
};

TEST_F(RedisChannelSwitchesTest, EveryChannelIsOnWithoutKeys) {
  auto off = switches_->ReadOff();
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_TRUE(off->empty());
}

TEST_F(RedisChannelSwitchesTest, ASwitchTurnedOffIsSeenByEveryReplicaUntilTurnedOn) {
  prometheus::Registry registry_a;
  prometheus::Registry registry_b;
  ChannelSwitchboard replica_a(*switches_, logger_, registry_a);
  ChannelSwitchboard replica_b(*switches_, logger_, registry_b);
  // An operator's command uses its own connection and store.
  RedisChannelSwitches admin(*redis_, prefix_);
  ASSERT_TRUE(admin.TurnOff(CHANNEL_SMS, "carrier outage").ok());
  ASSERT_TRUE(replica_a.Refresh().ok());
  ASSERT_TRUE(replica_b.Refresh().ok());
  for (const ChannelSwitchboard* board : {&replica_a, &replica_b}) {
    EXPECT_EQ(board->CheckOn(CHANNEL_SMS).code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(board->OffReason(CHANNEL_SMS), "carrier outage");
    EXPECT_TRUE(board->CheckOn(CHANNEL_VOICE).ok());
  }
  // No expiry: off until turned on.
  auto ttl = redis_->Command({"PTTL", switches_->Key(CHANNEL_SMS)});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->integer, -1);
  ASSERT_TRUE(admin.TurnOn(CHANNEL_SMS).ok());
  ASSERT_TRUE(replica_a.Refresh().ok());
  EXPECT_TRUE(replica_a.CheckOn(CHANNEL_SMS).ok());
}

TEST_F(RedisChannelSwitchesTest, TurningOffNeedsAReasonAndASwitchedChannel) {
  EXPECT_EQ(switches_->TurnOff(CHANNEL_SMS, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(switches_->TurnOff(types::v1::CHANNEL_UNSPECIFIED, "x").code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::channels
