#include "bench/delivery_tally.h"

#include <gtest/gtest.h>

namespace klaxon::bench {
namespace {

using std::chrono::milliseconds;

const WallTime kStart = WallTime(std::chrono::seconds(1'700'000'000));

TEST(DeliveryTallyTest, LatencyRunsFromDueTimeToFirstAcceptance) {
  DeliveryTally tally;
  tally.Sent("a", kStart);
  tally.Outcome("a", kAccepted, kStart + milliseconds(70));
  tally.Outcome("a", kAccepted, kStart + milliseconds(900));  // republished on redelivery
  EXPECT_EQ(tally.Summarize().latency.max, milliseconds(70));
}

TEST(DeliveryTallyTest, OutcomeBeforeTheSendAlertAnswerStillJoins) {
  DeliveryTally tally;
  tally.Outcome("a", kAccepted, kStart + milliseconds(40));
  tally.Sent("a", kStart);
  const DeliverySummary summary = tally.Summarize();
  EXPECT_EQ(summary.accepted, 1);
  EXPECT_EQ(tally.Waiting(), 0);
}

TEST(DeliveryTallyTest, SentAlertWithoutAcceptanceIsMissingAndWaiting) {
  DeliveryTally tally;
  tally.Sent("a", kStart);
  tally.Outcome("a", "KIND_DEFERRED", kStart + milliseconds(5));
  EXPECT_EQ(tally.Waiting(), 1);
  const DeliverySummary summary = tally.Summarize();
  EXPECT_EQ(summary.missing, 1);
  EXPECT_EQ(summary.outcomes.at("KIND_DEFERRED"), 1);
}

TEST(DeliveryTallyTest, OutcomesOfAlertsNotSentByTheRunAreLeftOut) {
  DeliveryTally tally;
  tally.Outcome("other", kAccepted, kStart);
  EXPECT_EQ(tally.Summarize().accepted, 0);
  EXPECT_TRUE(tally.IsAccepted("other"));
}

TEST(DeliveryTallyTest, RateIsAcceptedAlertsOverFirstDueToLastAcceptance) {
  DeliveryTally tally;
  tally.Sent("a", kStart);
  tally.Sent("b", kStart + milliseconds(500));
  tally.Outcome("a", kAccepted, kStart + milliseconds(100));
  tally.Outcome("b", kAccepted, kStart + milliseconds(1000));
  EXPECT_DOUBLE_EQ(AcceptedRate(tally.Summarize()), 2.0);
}

}  // namespace
}  // namespace klaxon::bench
