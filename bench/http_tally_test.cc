#include "bench/http_tally.h"

#include <chrono>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::Pair;

const SteadyClock::time_point kStart{std::chrono::seconds(1000)};

// Request `index`, due at kStart + index ms, sent `lag` after that and done `latency` after its
// due time.
HttpOutcome Outcome(int64_t index, int status, std::chrono::nanoseconds latency,
                    std::chrono::nanoseconds lag = microseconds(10), std::string error = "") {
  const SteadyClock::time_point due = kStart + milliseconds(index);
  return HttpOutcome{.index = index,
                     .status = status,
                     .error = std::move(error),
                     .due = due,
                     .sent = due + lag,
                     .done = due + latency};
}

TEST(HttpTallyTest, MeasuresTwoHundredsFromTheirDueTime) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 204, milliseconds(2)), false);
  tally.Record(Outcome(1, 200, milliseconds(4)), false);
  const LoadReport report = tally.Complete({.name = "webhook"});
  EXPECT_EQ(report.name, "webhook");
  EXPECT_EQ(report.requests, 2);
  EXPECT_EQ(report.latency.count, 2);
  EXPECT_EQ(report.latency.max, milliseconds(4));
  EXPECT_TRUE(report.errors.empty());
  // From request 0's due time to request 1's answer, 1 ms + 4 ms later.
  EXPECT_EQ(report.elapsed, milliseconds(5));
  EXPECT_THAT(tally.statuses(), ElementsAre(Pair(200, 1), Pair(204, 1)));
}

TEST(HttpTallyTest, CountsOtherStatusesAsErrorsAndOutOfTheLatencies) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 204, milliseconds(1)), false);
  tally.Record(Outcome(1, 503, milliseconds(900)), false);
  tally.Record(Outcome(2, 403, milliseconds(1)), false);
  tally.Record(Outcome(3, 503, milliseconds(1)), false);
  const LoadReport report = tally.Complete({});
  EXPECT_EQ(report.requests, 4);
  EXPECT_EQ(report.latency.count, 1);
  EXPECT_EQ(report.latency.max, milliseconds(1));
  EXPECT_THAT(report.errors, ElementsAre(Pair("HTTP 403", 1), Pair("HTTP 503", 2)));
  EXPECT_THAT(tally.statuses(), ElementsAre(Pair(204, 1), Pair(403, 1), Pair(503, 2)));
}

TEST(HttpTallyTest, CountsFailuresWithoutResponseByKind) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 0, milliseconds(15), microseconds(10), "timeout"), false);
  tally.Record(Outcome(1, 0, milliseconds(1), microseconds(10), "recv: ECONNRESET"), false);
  const LoadReport report = tally.Complete({});
  EXPECT_THAT(report.errors, ElementsAre(Pair("recv: ECONNRESET", 1), Pair("timeout", 1)));
  EXPECT_TRUE(tally.statuses().empty());
}

TEST(HttpTallyTest, CountsReplaysAndTheirAcknowledgementsApart) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 204, milliseconds(1)), false);
  tally.Record(Outcome(1, 204, milliseconds(1)), true);
  tally.Record(Outcome(2, 503, milliseconds(1)), true);
  EXPECT_EQ(tally.replays().sent, 2);
  EXPECT_EQ(tally.replays().acknowledged, 1);
  EXPECT_EQ(tally.Complete({}).latency.count, 2);
}

TEST(HttpTallyTest, LeavesTheWarmUpOut) {
  HttpTally tally(2);
  tally.Record(Outcome(0, 503, milliseconds(100), milliseconds(50)), true);
  tally.Record(Outcome(1, 204, milliseconds(100)), false);
  tally.Record(Outcome(2, 204, milliseconds(3)), false);
  tally.Record(Outcome(3, 204, milliseconds(2)), false);
  const LoadReport report = tally.Complete({});
  EXPECT_EQ(tally.warmup_requests(), 2);
  EXPECT_EQ(report.requests, 2);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.latency.max, milliseconds(3));
  EXPECT_EQ(report.max_send_lag, microseconds(10));
  EXPECT_EQ(report.elapsed, milliseconds(3));  // from request 2's due time to request 3's answer
  EXPECT_EQ(tally.replays().sent, 0);
}

TEST(HttpTallyTest, ReportsTheWorstSendLag) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 204, milliseconds(5), microseconds(40)), false);
  tally.Record(Outcome(1, 204, milliseconds(5), microseconds(900)), false);
  tally.Record(Outcome(2, 204, milliseconds(5), microseconds(7)), false);
  EXPECT_EQ(tally.Complete({}).max_send_lag, microseconds(900));
}

TEST(HttpTallyTest, AddsStatusesAndReplaysToTheJson) {
  HttpTally tally(1);
  tally.Record(Outcome(0, 204, milliseconds(1)), false);
  tally.Record(Outcome(1, 204, milliseconds(1)), true);
  tally.Record(Outcome(2, 429, milliseconds(1)), false);
  nlohmann::json json = ToJson(tally.Complete({}));
  AddHttpFields(tally, json);
  EXPECT_EQ(json["statuses"]["204"], 1);
  EXPECT_EQ(json["statuses"]["429"], 1);
  EXPECT_EQ(json["replays"]["sent"], 1);
  EXPECT_EQ(json["replays"]["acknowledged"], 1);
  EXPECT_EQ(json["warmup_requests"], 1);
  EXPECT_EQ(json["errors"]["HTTP 429"], 1);
}

TEST(HttpTallyTest, SummarizesStatusesAndReplaysForPeople) {
  HttpTally tally(0);
  tally.Record(Outcome(0, 204, milliseconds(1)), true);
  tally.Record(Outcome(1, 503, milliseconds(1)), false);
  EXPECT_EQ(HttpSummary(tally), "  statuses 204 1, 503 1\n  replays 1 sent, 1 acknowledged\n");
  EXPECT_EQ(HttpSummary(HttpTally(0)), "  statuses none\n  replays 0 sent, 0 acknowledged\n");
}

}  // namespace
}  // namespace klaxon::bench
