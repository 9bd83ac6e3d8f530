#include "services/ingress/source_rate_limiter.h"

#include <string>

#include "common/timing/fake_clock.h"
#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

// `source` sends `requests` that are all refused, as the webhook handler sees them: how many were
// heard (and so refused on their merits, each taking a token) before the limit cut it off.
int HeardOfRefused(SourceRateLimiter& limiter, std::string_view source, int requests) {
  int heard = 0;
  for (int i = 0; i < requests; ++i) {
    if (!limiter.Allows(source)) continue;
    ++heard;
    limiter.Charge(source);
  }
  return heard;
}

TEST(SourceRateLimiterTest, HearsOneSecondsWorthOfRefusalsThenNothing) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(10, clock);
  EXPECT_EQ(HeardOfRefused(limiter, "10.0.0.1", 25), 10);
  EXPECT_FALSE(limiter.Allows("10.0.0.1"));
}

// Twilio's new callbacks are kept and never charged: however many come from one address in one
// second, each is heard.
TEST(SourceRateLimiterTest, RequestsThatAreKeptTakeNoToken) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(10, clock);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limiter.Allows("10.0.0.1")) << i;
}

TEST(SourceRateLimiterTest, RefillsWithTime) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(10, clock);
  ASSERT_EQ(HeardOfRefused(limiter, "10.0.0.1", 10), 10);
  clock.SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(HeardOfRefused(limiter, "10.0.0.1", 10), 5);
  clock.SleepFor(absl::Seconds(60));
  EXPECT_EQ(HeardOfRefused(limiter, "10.0.0.1", 20), 10);  // never more than the bucket holds
}

TEST(SourceRateLimiterTest, SourcesHaveTheirOwnBuckets) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(2, clock);
  EXPECT_EQ(HeardOfRefused(limiter, "10.0.0.1", 5), 2);
  EXPECT_EQ(HeardOfRefused(limiter, "10.0.0.2", 5), 2);
}

TEST(SourceRateLimiterTest, EvictsTheLeastRecentlyUsedSourceAtCapacity) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(1, clock, /*max_sources=*/2);
  limiter.Charge("a");
  limiter.Charge("b");
  EXPECT_FALSE(limiter.Allows("a"));  // a is now the most recently used
  EXPECT_TRUE(limiter.Allows("c"));   // evicts b
  EXPECT_EQ(limiter.tracked(), 2u);
  EXPECT_FALSE(limiter.Allows("a"));  // a's empty bucket was kept
  EXPECT_TRUE(limiter.Allows("b"));   // b starts afresh
}

// Thousands of distinct addresses (a spoofing flood) never hold more than the cap, and a source
// still in use keeps its limit through the flood.
TEST(SourceRateLimiterTest, MemoryStaysBoundedUnderAFloodOfDistinctSources) {
  timing::FakeClock clock;
  SourceRateLimiter limiter(1, clock, /*max_sources=*/100);
  limiter.Charge("attacker");
  for (int i = 0; i < 100'000; ++i) {
    limiter.Charge("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    if (i % 50 == 0) {
      EXPECT_FALSE(limiter.Allows("attacker")) << i;
    }
    ASSERT_LE(limiter.tracked(), 100u);
  }
}

}  // namespace
}  // namespace klaxon::ingress
