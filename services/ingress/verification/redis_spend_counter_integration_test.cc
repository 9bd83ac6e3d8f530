// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two counters on one
// Redis stand for two ingress replicas.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "services/ingress/verification/redis_spend_counter.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress::verification {
namespace {

class RedisSpendCounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  const absl::Time day_ends_ = absl::Now() + absl::Hours(3);
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisSpendCounterTest, ReplicasShareTheDaysSpendAndNeverPassTheCap) {
  RedisSpendCounter first(*redis_, prefix_);
  RedisSpendCounter second(*redis_, prefix_);
  EXPECT_TRUE(first.Spend("billing", 400, 1'000, day_ends_).value());
  EXPECT_TRUE(second.Spend("billing", 400, 1'000, day_ends_).value());
  // 1,200 would pass the cap: refused, and nothing counted, so a smaller spend still fits.
  EXPECT_FALSE(first.Spend("billing", 400, 1'000, day_ends_).value());
  EXPECT_TRUE(second.Spend("billing", 200, 1'000, day_ends_).value());
  EXPECT_FALSE(first.Spend("billing", 1, 1'000, day_ends_).value());
  EXPECT_TRUE(first.Spend("pager", 1'000, 1'000, day_ends_).value());
}

TEST_F(RedisSpendCounterTest, ConcurrentSpendsStopExactlyAtTheCap) {
  std::atomic<int> spent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      RedisSpendCounter counter(*redis_, prefix_);
      if (counter.Spend("billing", 100, 1'000, day_ends_).value_or(false)) ++spent;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(spent.load(), 10);
}

TEST_F(RedisSpendCounterTest, TheCountIsDroppedADayAfterItsDay) {
  RedisSpendCounter counter(*redis_, prefix_);
  ASSERT_TRUE(counter.Spend("billing", 100, 1'000, day_ends_).value());
  absl::StatusOr<redis::Reply> ttl =
      redis_->Command({"PTTL", prefix_ + "verification-spend:billing"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(absl::Milliseconds(ttl->integer), absl::Hours(26));
  EXPECT_LE(absl::Milliseconds(ttl->integer), absl::Hours(27));
}

}  // namespace
}  // namespace klaxon::ingress::verification
