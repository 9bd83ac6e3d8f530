// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two limits on one
// Redis stand for two worker replicas.
#include <gtest/gtest.h>

#include "services/delivery/redis_in_flight_limit.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

class RedisInFlightLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  std::unique_ptr<RedisInFlightLimit> Replica(const std::string& owner,
                                              absl::Duration lease = absl::Seconds(30),
                                              int64_t limit = 2, int64_t urgent_reserve = 0) {
    return std::make_unique<RedisInFlightLimit>(
        *redis_,
        RedisInFlightOptions{.key_prefix = prefix_,
                             .owner = owner,
                             .limit = limit,
                             .urgent_reserve = urgent_reserve,
                             .lease = lease},
        clock_);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  timing::RealClock clock_;
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisInFlightLimitTest, LimitHoldsAcrossReplicas) {
  std::unique_ptr<RedisInFlightLimit> first = Replica("w1");
  std::unique_ptr<RedisInFlightLimit> second = Replica("w2");
  ASSERT_TRUE(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  ASSERT_TRUE(second->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  EXPECT_EQ(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(RedisInFlightLimitTest, TheUrgentReserveIsLeftToCriticalRequestsOnEveryReplica) {
  std::unique_ptr<RedisInFlightLimit> first = Replica("w1", absl::Seconds(30), 3, 1);
  std::unique_ptr<RedisInFlightLimit> second = Replica("w2", absl::Seconds(30), 3, 1);
  ASSERT_TRUE(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  ASSERT_TRUE(second->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_HIGH).ok());
  EXPECT_EQ(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).status().code(),
            absl::StatusCode::kResourceExhausted)
      << "the third slot is kept for a critical request";
  ASSERT_TRUE(second->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_CRITICAL).ok());
  EXPECT_EQ(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_CRITICAL).status().code(),
            absl::StatusCode::kResourceExhausted)
      << "and the limit still holds for critical requests";
}

TEST_F(RedisInFlightLimitTest, ReleasedSlotCanBeTakenByAnotherReplica) {
  std::unique_ptr<RedisInFlightLimit> first = Replica("w1");
  std::unique_ptr<RedisInFlightLimit> second = Replica("w2");
  ASSERT_TRUE(first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  absl::StatusOr<std::string> slot =
      first->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL);
  ASSERT_TRUE(slot.ok()) << slot.status();
  first->Release(*slot);
  EXPECT_TRUE(second->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
}

TEST_F(RedisInFlightLimitTest, DeadHoldersSlotsAreReclaimedAfterTheirLease) {
  std::unique_ptr<RedisInFlightLimit> dead = Replica("w1", absl::Milliseconds(200));
  ASSERT_TRUE(dead->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  ASSERT_TRUE(dead->Acquire(absl::ZeroDuration(), types::v1::PRIORITY_NORMAL).ok());
  // Acquire polls until the leases run out, well within the wait.
  absl::StatusOr<std::string> slot =
      Replica("w2")->Acquire(absl::Seconds(10), types::v1::PRIORITY_NORMAL);
  EXPECT_TRUE(slot.ok()) << slot.status();
}

}  // namespace
}  // namespace klaxon::delivery
