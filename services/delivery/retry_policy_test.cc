#include "services/delivery/retry_policy.h"

#include <gtest/gtest.h>

namespace klaxon::delivery {
namespace {

RetryPolicy PolicyDrawing(double draw) {
  return RetryPolicy({.base = absl::Seconds(2),
                      .cap = absl::Seconds(60),
                      .max_attempts = 4,
                      .slow_down = absl::Seconds(30)},
                     [draw] { return draw; });
}

TEST(RetryPolicyTest, FirstRetryWaitsUpToBase) {
  EXPECT_EQ(PolicyDrawing(0.5).Backoff(1, std::nullopt, false), absl::Seconds(1));
}

TEST(RetryPolicyTest, RangeDoublesPerAttempt) {
  EXPECT_EQ(PolicyDrawing(0.5).Backoff(3, std::nullopt, false), absl::Seconds(4));
}

TEST(RetryPolicyTest, RangeStopsAtCap) {
  EXPECT_EQ(PolicyDrawing(0.5).Backoff(40, std::nullopt, false), absl::Seconds(30));
}

TEST(RetryPolicyTest, FullJitterCanDrawZero) {
  EXPECT_EQ(PolicyDrawing(0).Backoff(2, std::nullopt, false), absl::ZeroDuration());
}

TEST(RetryPolicyTest, RetryAfterIsTheLeastWait) {
  EXPECT_EQ(PolicyDrawing(0.1).Backoff(1, absl::Seconds(9), false), absl::Seconds(9));
}

TEST(RetryPolicyTest, RetryAfterIsWaitedUpToFiveMinutesWhateverTheCap) {
  EXPECT_EQ(PolicyDrawing(0.1).Backoff(1, absl::Hours(24), false), absl::Minutes(5));
  EXPECT_EQ(PolicyDrawing(0.1).Backoff(1, absl::Minutes(3), false), absl::Minutes(3))
      << "beyond the 60 s cap: the cap bounds the draw, not Twilio's word";
  EXPECT_EQ(RetryPolicy::HonouredRetryAfter(absl::InfiniteDuration()), absl::Minutes(5));
  EXPECT_EQ(RetryPolicy::HonouredRetryAfter(std::nullopt), absl::ZeroDuration());
}

TEST(RetryPolicyTest, JitterDrawsWithinTheRange) {
  EXPECT_EQ(PolicyDrawing(0.9).Jitter(absl::Seconds(10)), absl::Seconds(9));
  EXPECT_EQ(PolicyDrawing(0.9).Jitter(absl::ZeroDuration()), absl::ZeroDuration());
}

TEST(RetryPolicyTest, SlowDownIsTheLeastWait) {
  EXPECT_EQ(PolicyDrawing(0.1).Backoff(1, std::nullopt, true), absl::Seconds(30));
}

TEST(RetryPolicyTest, MaxAttemptsCountsTheFirst) {
  RetryPolicy policy = PolicyDrawing(0);
  EXPECT_TRUE(policy.MayRetry(3));
  EXPECT_FALSE(policy.MayRetry(4));
}

}  // namespace
}  // namespace klaxon::delivery
