#include "common/kafka/consumer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace klaxon::kafka {
namespace {

ConsumerOptions Valid() {
  return {.brokers = "127.0.0.1:1",
          .group_id = "g",
          .topics = {"klaxon.sms.requests"},
          .log = [](std::string_view, std::string_view, std::string_view) {}};
}

TEST(KafkaConsumerTest, RejectsMissingGroup) {
  ConsumerOptions options = Valid();
  options.group_id.clear();
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, RejectsMissingTopics) {
  ConsumerOptions options = Valid();
  options.topics.clear();
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, RejectsAutomaticOffsetStore) {
  ConsumerOptions options = Valid();
  options.properties = {{"enable.auto.offset.store", "true"}};
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, CreatesWithoutReachableBroker) {
  // Connecting is asynchronous; an unreachable cluster shows in Run(), not in Create().
  EXPECT_TRUE(KafkaConsumer::Create(Valid()).ok());
}

// Shaped like librdkafka's statistics for a consumer of two topics (STATISTICS.md), cut down.
constexpr char kStats[] = R"({
  "name": "klaxon#consumer-1", "type": "consumer",
  "topics": {
    "t.sms": {"topic": "t.sms", "partitions": {
      "0": {"partition": 0, "hi_offset": 10, "committed_offset": 4, "consumer_lag": 6},
      "1": {"partition": 1, "hi_offset": 3, "committed_offset": 3, "consumer_lag": 0},
      "-1": {"partition": -1, "hi_offset": -1, "committed_offset": -1001, "consumer_lag": -1}}},
    "t.voice": {"topic": "t.voice", "partitions": {
      "0": {"partition": 0, "hi_offset": 5, "committed_offset": -1001, "consumer_lag": -1},
      "2": {"partition": 2, "hi_offset": 7, "committed_offset": 2, "consumer_lag": 5}}}}})";

TEST(IsCooperativeAssignmentTest, OnlyTheCooperativeAssignorIs) {
  EXPECT_TRUE(IsCooperativeAssignment("cooperative-sticky"));
  EXPECT_TRUE(IsCooperativeAssignment(" cooperative-sticky "));
  EXPECT_FALSE(IsCooperativeAssignment("range,roundrobin"));  // librdkafka's default
  EXPECT_FALSE(IsCooperativeAssignment("roundrobin"));
  EXPECT_FALSE(IsCooperativeAssignment(""));
}

TEST(ParseConsumerLagTest, ReportsEveryPartitionWithKnownLag) {
  absl::StatusOr<std::vector<PartitionLag>> lags = ParseConsumerLag(kStats);
  ASSERT_TRUE(lags.ok()) << lags.status();
  EXPECT_EQ(*lags, (std::vector<PartitionLag>{{.topic = "t.sms", .partition = 0, .lag = 6},
                                              {.topic = "t.sms", .partition = 1, .lag = 0},
                                              {.topic = "t.voice", .partition = 2, .lag = 5}}));
}

TEST(ParseConsumerLagTest, NoTopicsIsNoLag) {
  absl::StatusOr<std::vector<PartitionLag>> lags =
      ParseConsumerLag(R"({"name": "klaxon#consumer-1", "topics": {}})");
  ASSERT_TRUE(lags.ok()) << lags.status();
  EXPECT_TRUE(lags->empty());
}

TEST(ParseConsumerLagTest, RejectsMalformedJson) {
  EXPECT_EQ(ParseConsumerLag(R"({"topics": {)").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseConsumerLagTest, RejectsNonObject) {
  EXPECT_EQ(ParseConsumerLag("[]").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, RejectsStatisticsIntervalLibrdkafkaRefuses) {
  // statistics.interval.ms takes at most 86400000; the interval is passed through unchanged.
  ConsumerOptions options = Valid();
  options.on_lag = [](const std::vector<PartitionLag>&) {};
  options.lag_interval = absl::Hours(48);
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// The process's thread count, from /proc/self/status.
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

class CompletesAtOnce final : public messaging::AsyncMessageHandler {
 public:
  void Handle(const messaging::InboundMessage&, messaging::HandleDone done) override {
    std::move(done)(absl::OkStatus());
  }
};

TEST(KafkaConsumerTest, RunsWithAThousandInFlightOnAFixedFewThreads) {
  // Audit's max_in_flight: it once meant a pool of 1,000 threads started by Run().
  ConsumerOptions options = Valid();
  options.max_in_flight = 1000;
  absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer = KafkaConsumer::Create(options);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  const int before = ThreadCount();
  CompletesAtOnce handler;
  std::jthread runner([&](std::stop_token stop) { (void)(*consumer)->Run(handler, stop); });
  // The runner and the dispatching thread appear; then, for a bounded look, nothing more. (A
  // pool started by Run() would show within this window.)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ThreadCount() < before + 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  int most = 0;
  const auto watch_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < watch_until) most = std::max(most, ThreadCount());
  EXPECT_GE(most, before + 2);
  EXPECT_LE(most, before + 6);  // room for a broker thread librdkafka may add
}

}  // namespace
}  // namespace klaxon::kafka
