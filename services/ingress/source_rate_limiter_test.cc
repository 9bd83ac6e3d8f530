#include "services/ingress/source_rate_limiter.h"

#include "common/timing/fake_clock.h"
#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

int AllowedOf(SourceRateLimiter& limiter, std::string_view source, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += limiter.Allow(source) ? 1 : 0;
  return allowed;
}

TEST(SourceRateLimiterTest, AllowsOneSecondsWorthThenRefuses) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(10, clock);
  EXPECT_EQ(AllowedOf(limiter, "10.0.0.1", 25), 10);
}

TEST(SourceRateLimiterTest, RefillsWithTime) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(10, clock);
  ASSERT_EQ(AllowedOf(limiter, "10.0.0.1", 10), 10);
  clock.SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(AllowedOf(limiter, "10.0.0.1", 10), 5);
  clock.SleepFor(absl::Seconds(60));
  EXPECT_EQ(AllowedOf(limiter, "10.0.0.1", 20), 10);  // never more than the bucket holds
}

TEST(SourceRateLimiterTest, SourcesHaveTheirOwnBuckets) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(2, clock);
  EXPECT_EQ(AllowedOf(limiter, "10.0.0.1", 5), 2);
  EXPECT_EQ(AllowedOf(limiter, "10.0.0.2", 5), 2);
}

TEST(SourceRateLimiterTest, ForgetsFullBucketsWhenTrackingTooManySources) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(1, clock, /*max_sources=*/2);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));
  clock.SleepFor(absl::Seconds(2));  // a and b refilled: forgettable
  EXPECT_TRUE(limiter.Allow("c"));
  EXPECT_FALSE(limiter.Allow("c"));  // c's own bucket still limits
  EXPECT_TRUE(limiter.Allow("a"));   // a starts afresh
}

}  // namespace
}  // namespace klaxon::ingress
