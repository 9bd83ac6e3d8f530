// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two limits on one
// Redis stand for two worker replicas.
#include <gtest/gtest.h>

#include "services/delivery/redis_in_flight_limit.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

class RedisInFlightLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client =
        redis::RedisClient::Create({.url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL")});
    ASSERT_TRUE(client.ok()) << client.status();
    redis_ = *std::move(client);
  }

  std::unique_ptr<RedisInFlightLimit> Replica(const std::string& owner,
                                              absl::Duration lease = absl::Seconds(30)) {
    return std::make_unique<RedisInFlightLimit>(
        *redis_,
        RedisInFlightOptions{.key_prefix = prefix_, .owner = owner, .limit = 2, .lease = lease},
        clock_);
  }

  const std::string prefix_ = klaxon::testing::UniquePrefix();
  timing::RealClock clock_;
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisInFlightLimitTest, LimitHoldsAcrossReplicas) {
  std::unique_ptr<RedisInFlightLimit> first = Replica("w1");
  std::unique_ptr<RedisInFlightLimit> second = Replica("w2");
  ASSERT_TRUE(first->Acquire(absl::ZeroDuration()).ok());
  ASSERT_TRUE(second->Acquire(absl::ZeroDuration()).ok());
  EXPECT_EQ(first->Acquire(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(RedisInFlightLimitTest, ReleasedSlotCanBeTakenByAnotherReplica) {
  std::unique_ptr<RedisInFlightLimit> first = Replica("w1");
  std::unique_ptr<RedisInFlightLimit> second = Replica("w2");
  ASSERT_TRUE(first->Acquire(absl::ZeroDuration()).ok());
  absl::StatusOr<std::string> slot = first->Acquire(absl::ZeroDuration());
  ASSERT_TRUE(slot.ok()) << slot.status();
  first->Release(*slot);
  EXPECT_TRUE(second->Acquire(absl::ZeroDuration()).ok());
}

TEST_F(RedisInFlightLimitTest, DeadHoldersSlotsAreReclaimedAfterTheirLease) {
  std::unique_ptr<RedisInFlightLimit> dead = Replica("w1", absl::Milliseconds(200));
  ASSERT_TRUE(dead->Acquire(absl::ZeroDuration()).ok());
  ASSERT_TRUE(dead->Acquire(absl::ZeroDuration()).ok());
  // Acquire polls until the leases run out, well within the wait.
  absl::StatusOr<std::string> slot = Replica("w2")->Acquire(absl::Seconds(10));
  EXPECT_TRUE(slot.ok()) << slot.status();
}

}  // namespace
}  // namespace klaxon::delivery
