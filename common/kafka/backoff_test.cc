#include "common/kafka/backoff.h"

#include <gtest/gtest.h>

namespace klaxon::kafka {
namespace {

constexpr BackoffPolicy kPolicy{
    .initial = absl::Milliseconds(100), .max = absl::Seconds(2), .multiplier = 2.0};

TEST(BackoffTest, FirstRetryWaitsInitialDelay) {
  EXPECT_EQ(BackoffDelay(kPolicy, 0), absl::Milliseconds(100));
}

TEST(BackoffTest, GrowsByMultiplier) {
  EXPECT_EQ(BackoffDelay(kPolicy, 1), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(kPolicy, 3), absl::Milliseconds(800));
}

TEST(BackoffTest, CapsDelayAtMaximum) {
  EXPECT_EQ(BackoffDelay(kPolicy, 5), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(kPolicy, 1'000'000), absl::Seconds(2));
}

TEST(BackoffTest, NegativeRetryCountsAsFirst) {
  EXPECT_EQ(BackoffDelay(kPolicy, -3), absl::Milliseconds(100));
}

TEST(BackoffTest, InitialAboveMaximumIsCapped) {
  const BackoffPolicy policy{.initial = absl::Seconds(5), .max = absl::Seconds(1)};
  EXPECT_EQ(BackoffDelay(policy, 0), absl::Seconds(1));
}

}  // namespace
}  // namespace klaxon::kafka
