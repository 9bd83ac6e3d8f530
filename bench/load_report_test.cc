#include "bench/load_report.h"

#include <chrono>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

LoadReport SampleReport() {
  return LoadReport{
      .name = "SendAlert",
      .target = "127.0.0.1:50051",
      .rate_per_second = 100,
      .planned_duration = seconds(10),
      .concurrency = 64,
      .requests = 1000,
      .errors = {{"UNAVAILABLE", 3}, {"DEADLINE_EXCEEDED", 2}},
      .latency = {.count = 995,
                  .p50 = microseconds(3'210),
                  .p90 = microseconds(5'400),
                  .p99 = microseconds(12'801),
                  .p999 = microseconds(20'000),
                  .max = milliseconds(40)},
      .elapsed = milliseconds(10'050),
      .max_send_lag = microseconds(350),
  };
}

TEST(AchievedRateTest, IsSuccessesPerElapsedSecond) {
  EXPECT_DOUBLE_EQ(AchievedRate(SampleReport()), 99.0);
}

TEST(AchievedRateTest, IsZeroWhenNothingElapsed) {
  EXPECT_DOUBLE_EQ(AchievedRate(LoadReport{}), 0.0);
}

TEST(ToJsonLineTest, CarriesRatesLatenciesAndErrorsByCode) {
  const std::string line = ToJsonLine(SampleReport());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["requests"], 1000);
  EXPECT_EQ(json["ok"], 995);
  EXPECT_DOUBLE_EQ(json["achieved_rate"].get<double>(), 99.0);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p50"].get<double>(), 3.21);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p99"].get<double>(), 12.801);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p999"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["max"].get<double>(), 40.0);
  EXPECT_EQ(json["errors"]["UNAVAILABLE"], 3);
  EXPECT_EQ(json["errors"]["DEADLINE_EXCEEDED"], 2);
  EXPECT_DOUBLE_EQ(json["max_send_lag_ms"].get<double>(), 0.35);
}

TEST(ToJsonLineTest, HasAnEmptyErrorObjectWithoutErrors) {
  const nlohmann::json json = nlohmann::json::parse(ToJsonLine(LoadReport{}));
  EXPECT_TRUE(json["errors"].is_object());
  EXPECT_TRUE(json["errors"].empty());
}

TEST(ToHumanSummaryTest, NamesErrorCodesAndPercentiles) {
  const std::string summary = ToHumanSummary(SampleReport());
  EXPECT_THAT(summary, HasSubstr("SendAlert on 127.0.0.1:50051: 1000 requests at 100/s over "
                                 "10s, at most 64 in flight"));
  EXPECT_THAT(summary, HasSubstr("ok 995, errors 5 (DEADLINE_EXCEEDED 2, UNAVAILABLE 3)"));
  EXPECT_THAT(summary, HasSubstr("p50 3.210  p90 5.400  p99 12.801  p99.9 20.000  max 40.000"));
}

LoadReport CleanReport() {
  LoadReport report = SampleReport();
  report.errors.clear();
  report.latency.count = report.requests;
  report.elapsed = seconds(10);
  return report;
}

TEST(ShortfallsTest, NoneWhenEveryCallSucceededAtThePlannedRate) {
  EXPECT_THAT(Shortfalls(CleanReport(), 0.95), IsEmpty());
}

TEST(ShortfallsTest, NamesFailedCallsByKind) {
  EXPECT_THAT(Shortfalls(SampleReport(), 0.95),
              ElementsAre("5 of 1000 requests did not succeed (DEADLINE_EXCEEDED 2, "
                          "UNAVAILABLE 3)"));
}

TEST(ShortfallsTest, NamesARateUnderTheFloor) {
  LoadReport report = CleanReport();
  report.elapsed = milliseconds(10'600);  // 94.34/s
  EXPECT_THAT(Shortfalls(report, 0.95),
              ElementsAre("achieved 94.34/s, under 95% of the planned 100/s (95.00/s)"));
}

TEST(ShortfallsTest, AcceptsARateJustAtTheFloor) {
  LoadReport report = CleanReport();
  report.elapsed = milliseconds(10'500);  // 95.24/s
  EXPECT_THAT(Shortfalls(report, 0.95), IsEmpty());
}

}  // namespace
}  // namespace klaxon::bench
