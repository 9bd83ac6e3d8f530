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

TEST(SourceRateLimiterTest, EvictsTheLeastRecentlyUsedSourceAtCapacity) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(1, clock, /*max_sources=*/2);
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));
  EXPECT_FALSE(limiter.Allow("a"));  // a is now the most recently used
  EXPECT_TRUE(limiter.Allow("c"));   // evicts b
  EXPECT_EQ(limiter.tracked(), 2u);
  EXPECT_FALSE(limiter.Allow("a"));  // a's empty bucket was kept
  EXPECT_FALSE(limiter.Allow("c"));
  EXPECT_TRUE(limiter.Allow("b"));  // b starts afresh
}

// Thousands of distinct addresses (a spoofing flood) never hold more than the cap, and a source
// still in use keeps its limit through the flood.
TEST(SourceRateLimiterTest, MemoryStaysBoundedUnderAFloodOfDistinctSources) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(1, clock, /*max_sources=*/100);
  ASSERT_TRUE(limiter.Allow("victim"));
  for (int i = 0; i < 100'000; ++i) {
    limiter.Allow("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    if (i % 50 == 0) {
      EXPECT_FALSE(limiter.Allow("victim")) << i;
    }
    ASSERT_LE(limiter.tracked(), 100u);
  }
}

}  // namespace
}  // namespace klaxon::ingress
