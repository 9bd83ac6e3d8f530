// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <memory>

#include "common/stopped_alerts/redis_stopped_alerts.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::stopped_alerts {
namespace {

class RedisStoppedAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);
    stopped_ = std::make_unique<RedisStoppedAlerts>(*redis_, prefix_);
  }
  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::string prefix_;
  std::unique_ptr<RedisStoppedAlerts> stopped_;
};

TEST_F(RedisStoppedAlertsTest, UnknownAlertIsNotStopped) {
  auto found = stopped_->Find("a1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());
}

TEST_F(RedisStoppedAlertsTest, StoppedAlertIsFoundWithItsReason) {
  auto stopped = stopped_->Stop("a1", StopReason::kCancelled, absl::Minutes(5));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, StopReason::kCancelled);
  auto found = stopped_->Find("a1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, StopReason::kCancelled);
}

TEST_F(RedisStoppedAlertsTest, FirstStopWins) {
  ASSERT_TRUE(stopped_->Stop("a1", StopReason::kAcknowledged, absl::Minutes(5)).ok());
  auto second = stopped_->Stop("a1", StopReason::kCancelled, absl::Minutes(5));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, StopReason::kAcknowledged);
  EXPECT_EQ(*stopped_->Find("a1"), StopReason::kAcknowledged);
}

TEST_F(RedisStoppedAlertsTest, StopIsKeptForTheGivenTime) {
  ASSERT_TRUE(stopped_->Stop("a1", StopReason::kCancelled, absl::Minutes(5)).ok());
  auto ttl = redis_->Command({"PTTL", prefix_ + "stopped:a1"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 4 * 60 * 1000);
  EXPECT_LE(ttl->integer, 5 * 60 * 1000);
}

// A page's own stop is also its chain's when the chain's id is the page's: a key press stops
// the page for its lifetime, and the chain's stop that follows must hold for the chain's.
TEST_F(RedisStoppedAlertsTest, ALaterStopLengthensTheStopAndNeverShortensIt) {
  ASSERT_TRUE(stopped_->Stop("a1", StopReason::kAcknowledged, absl::Minutes(5)).ok());
  auto longer = stopped_->Stop("a1", StopReason::kAcknowledged, absl::Hours(3));
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_EQ(*longer, StopReason::kAcknowledged);
  auto ttl = redis_->Command({"PTTL", prefix_ + "stopped:a1"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 2 * 60 * 60 * 1000);

  ASSERT_TRUE(stopped_->Stop("a1", StopReason::kCancelled, absl::Minutes(1)).ok());
  ttl = redis_->Command({"PTTL", prefix_ + "stopped:a1"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 2 * 60 * 60 * 1000);
  EXPECT_EQ(*stopped_->Find("a1"), StopReason::kAcknowledged);
}

}  // namespace
}  // namespace klaxon::stopped_alerts
