// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two limiters on one
// Redis stand for two ingress replicas. The script runs on Redis's clock, so an expected wait
// carries a tolerance for the real time the test itself takes.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/ingress/verification/redis_start_limiter.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress::verification {
namespace {

constexpr absl::Duration kTolerance = absl::Seconds(5);
const limits::Rate kTwoPerMinute{.count = 2, .window = absl::Minutes(1)};
const limits::Rate kTwoPerHour{.count = 2, .window = absl::Hours(1)};
const limits::Rate kThreePerHour{.count = 3, .window = absl::Hours(1)};
const limits::Rate kTenPerMinute{.count = 10, .window = absl::Minutes(1)};

class RedisStartLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
  }

  // A limiter sharing this test's keys, as another replica would.
  std::unique_ptr<RedisStartLimiter> Replica() {
    return std::make_unique<RedisStartLimiter>(*redis_, prefix_);
  }

  // Take's answer; a failure fails the test and answers "fits".
  static std::optional<FullWindow> Take(StartLimiter& limiter, const std::string& key,
                                        const std::vector<limits::Rate>& rates,
                                        const std::string& member) {
    absl::StatusOr<std::optional<FullWindow>> full = limiter.Take({{key, rates}}, member);
    EXPECT_TRUE(full.ok()) << full.status();
    return full.value_or(std::nullopt);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
};

TEST_F(RedisStartLimiterTest, RefusesTheThirdStartAndNamesItsWindow) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s1"), std::nullopt);
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s2"), std::nullopt);
  const std::optional<FullWindow> full = Take(*limiter, "4f1c0a", {kTwoPerHour}, "s3");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->rate, kTwoPerHour);
  EXPECT_LE(full->retry_after, absl::Hours(1));
  EXPECT_GT(full->retry_after, absl::Hours(1) - kTolerance);
}

TEST_F(RedisStartLimiterTest, AWindowWithRoomDoesNotHideALaterFullOne) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  const std::vector<limits::Rate> rates = {kTenPerMinute, kTwoPerHour};
  ASSERT_EQ(Take(*limiter, "4f1c0a", rates, "s1"), std::nullopt);
  ASSERT_EQ(Take(*limiter, "4f1c0a", rates, "s2"), std::nullopt);
  const std::optional<FullWindow> full = Take(*limiter, "4f1c0a", rates, "s3");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->rate, kTwoPerHour);
}

TEST_F(RedisStartLimiterTest, RefusesByTheFirstFullWindowInTheOrderGiven) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  const std::vector<limits::Rate> rates = {kTwoPerMinute, kTwoPerHour};
  ASSERT_EQ(Take(*limiter, "4f1c0a", rates, "s1"), std::nullopt);
  ASSERT_EQ(Take(*limiter, "4f1c0a", rates, "s2"), std::nullopt);
  const std::optional<FullWindow> full = Take(*limiter, "4f1c0a", rates, "s3");
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->rate, kTwoPerMinute);
  EXPECT_LE(full->retry_after, absl::Minutes(1));
  EXPECT_GT(full->retry_after, absl::Minutes(1) - kTolerance);
}

TEST_F(RedisStartLimiterTest, ARefusalRecordsNothing) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s1"), std::nullopt);
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s2"), std::nullopt);
  ASSERT_NE(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s3"), std::nullopt);
  ASSERT_NE(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s4"), std::nullopt);
  // Only the two starts that fit were counted: a window of three has room for one more.
  EXPECT_EQ(Take(*limiter, "4f1c0a", {kThreePerHour}, "s5"), std::nullopt);
  EXPECT_NE(Take(*limiter, "4f1c0a", {kThreePerHour}, "s6"), std::nullopt);
}

TEST_F(RedisStartLimiterTest, ReplicasShareTheirWindows) {
  std::unique_ptr<RedisStartLimiter> first = Replica();
  std::unique_ptr<RedisStartLimiter> second = Replica();
  ASSERT_EQ(Take(*first, "4f1c0a", {kTwoPerHour}, "s1"), std::nullopt);
  ASSERT_EQ(Take(*second, "4f1c0a", {kTwoPerHour}, "s2"), std::nullopt);
  EXPECT_NE(Take(*first, "4f1c0a", {kTwoPerHour}, "s3"), std::nullopt);
}

TEST_F(RedisStartLimiterTest, KeysHaveSeparateWindows) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s1"), std::nullopt);
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTwoPerHour}, "s2"), std::nullopt);
  EXPECT_EQ(Take(*limiter, "caller:pager", {kTwoPerHour}, "s3"), std::nullopt);
}

TEST_F(RedisStartLimiterTest, AStartRefusedByOneKeyIsCountedUnderNone) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  const std::vector<KeyedRates> both = {{"prefix:1", {kThreePerHour}}, {"4f1c0a", {kTwoPerHour}}};
  ASSERT_EQ(limiter->Take(both, "s1").value(), std::nullopt);
  ASSERT_EQ(limiter->Take(both, "s2").value(), std::nullopt);
  const std::optional<FullWindow> full = limiter->Take(both, "s3").value();
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->limit, 1u);
  EXPECT_EQ(full->rate, kTwoPerHour);
  // The refused start took nothing from the range: it still has room for one more.
  EXPECT_EQ(Take(*limiter, "prefix:1", {kThreePerHour}, "s4"), std::nullopt);
  EXPECT_NE(Take(*limiter, "prefix:1", {kThreePerHour}, "s5"), std::nullopt);
}

TEST_F(RedisStartLimiterTest, StartsExpireWithTheLongestWindow) {
  std::unique_ptr<RedisStartLimiter> limiter = Replica();
  ASSERT_EQ(Take(*limiter, "4f1c0a", {kTenPerMinute, kTwoPerHour}, "s1"), std::nullopt);
  absl::StatusOr<redis::Reply> ttl =
      redis_->Command({"PTTL", prefix_ + "verification-starts:4f1c0a"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(absl::Milliseconds(ttl->integer), absl::Hours(1) - kTolerance);
  EXPECT_LE(absl::Milliseconds(ttl->integer), absl::Hours(1));
}

}  // namespace
}  // namespace klaxon::ingress::verification
