#include "bench/latency_stats.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using ::testing::ElementsAre;
using ::testing::Pair;

std::vector<nanoseconds> OneToHundredMillis() {
  std::vector<nanoseconds> samples;
  for (int ms = 1; ms <= 100; ++ms) samples.push_back(milliseconds(ms));
  return samples;
}

TEST(PercentileTest, UsesNearestRank) {
  const std::vector<nanoseconds> sorted = OneToHundredMillis();
  EXPECT_EQ(Percentile(sorted, 50), milliseconds(50));
  EXPECT_EQ(Percentile(sorted, 90), milliseconds(90));
  EXPECT_EQ(Percentile(sorted, 99), milliseconds(99));
  EXPECT_EQ(Percentile(sorted, 99.5), milliseconds(100));
  EXPECT_EQ(Percentile(sorted, 100), milliseconds(100));
}

TEST(PercentileTest, RoundsTheRankUp) {
  const std::vector<nanoseconds> sorted = {milliseconds(1), milliseconds(2), milliseconds(3)};
  // 50% of 3 samples is 1.5, so the second sample is the first with half at or below it.
  EXPECT_EQ(Percentile(sorted, 50), milliseconds(2));
  EXPECT_EQ(Percentile(sorted, 1), milliseconds(1));
}

TEST(PercentileTest, IsZeroWithoutSamples) { EXPECT_EQ(Percentile({}, 99), nanoseconds(0)); }

TEST(LatencyRecorderTest, SummarizesSamplesRecordedInAnyOrder) {
  std::vector<nanoseconds> samples = OneToHundredMillis();
  std::shuffle(samples.begin(), samples.end(), std::mt19937(7));
  LatencyRecorder recorder;
  for (const nanoseconds sample : samples) recorder.RecordSuccess(sample);
  const LatencySummary summary = recorder.Summarize();
  EXPECT_EQ(summary.count, 100);
  EXPECT_EQ(summary.p50, milliseconds(50));
  EXPECT_EQ(summary.p90, milliseconds(90));
  EXPECT_EQ(summary.p99, milliseconds(99));
  EXPECT_EQ(summary.p999, milliseconds(100));
  EXPECT_EQ(summary.max, milliseconds(100));
}

TEST(LatencyRecorderTest, SeparatesTheWorstThousandthFromTheMaximum) {
  LatencyRecorder recorder;
  for (int us = 1; us <= 2000; ++us) recorder.RecordSuccess(std::chrono::microseconds(us));
  const LatencySummary summary = recorder.Summarize();
  EXPECT_EQ(summary.p999, std::chrono::microseconds(1998));
  EXPECT_EQ(summary.max, std::chrono::microseconds(2000));
}

TEST(LatencyRecorderTest, CountsErrorsByKindApartFromLatency) {
  LatencyRecorder recorder;
  recorder.RecordSuccess(milliseconds(5));
  recorder.RecordError("UNAVAILABLE");
  recorder.RecordError("DEADLINE_EXCEEDED");
  recorder.RecordError("UNAVAILABLE");
  EXPECT_EQ(recorder.successes(), 1);
  EXPECT_EQ(recorder.Summarize().max, milliseconds(5));
  EXPECT_THAT(recorder.errors(), ElementsAre(Pair("DEADLINE_EXCEEDED", 1), Pair("UNAVAILABLE", 2)));
}

TEST(LatencyRecorderTest, SummaryOfNothingIsZero) {
  const LatencySummary summary = LatencyRecorder().Summarize();
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.max, nanoseconds(0));
}

}  // namespace
}  // namespace klaxon::bench
