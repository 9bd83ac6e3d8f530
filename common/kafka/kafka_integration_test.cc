// klaxon::kafka against a real Kafka broker (KLAXON_TEST_KAFKA_BROKERS, started by
// scripts/test.sh). Every test creates its own topics under a unique prefix, deleted when it ends,
// and uses its own consumer group.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "common/kafka/partitioner.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/messaging/thread_pool_handler.h"
#include "tests/support/kafka.h"
#include "tests/support/process.h"
#include "tests/support/support.h"

namespace klaxon::kafka {
namespace {

using messaging::InboundMessage;
using messaging::OutboundMessage;

// Long enough for a consumer group join on a loaded two-core machine.
constexpr absl::Duration kWait = absl::Seconds(60);

// Records what it is handed and answers with the status `decide` picks for each message.
class RecordingHandler final : public messaging::MessageHandler {
 public:
  explicit RecordingHandler(std::function<absl::Status(const InboundMessage&)> decide =
                                [](const InboundMessage&) { return absl::OkStatus(); })
      : decide_(std::move(decide)) {}

  absl::Status Handle(const InboundMessage& message) override {
    std::lock_guard lock(mutex_);
    seen_.push_back(message);
    changed_.notify_all();
    return decide_(message);
  }

  // Waits until `done` holds for what was handled so far; false after `timeout`.
  bool WaitFor(const std::function<bool(const std::vector<InboundMessage>&)>& done,
               absl::Duration timeout = kWait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return done(seen_); });
  }

  std::vector<InboundMessage> Seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::function<absl::Status(const InboundMessage&)> decide_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<InboundMessage> seen_;
};

bool Contains(const std::vector<InboundMessage>& seen, std::string_view value) {
  return std::any_of(seen.begin(), seen.end(),
                     [&](const InboundMessage& m) { return m.value == value; });
}

// A key that lands on `partition` of a topic of `partition_count` partitions.
std::string KeyOnPartition(int32_t partition, int32_t partition_count) {
  for (int i = 0;; ++i) {
    std::string key = absl::StrCat("key-", i);
    if (PartitionForKey(key, partition_count).value() == partition) return key;
  }
}

// librdkafka's partition.assignment.strategy values: its default, which rebalances eagerly (every
// member gives back every partition), and the incremental one the retry tiers' groups use
// (KIP-429, docs/adr/0027).
constexpr std::string_view kEagerAssignment = "range,roundrobin";
constexpr std::string_view kCooperativeAssignment = "cooperative-sticky";

class KafkaIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = klaxon::testing::RequiredEnv("KLAXON_TEST_KAFKA_BROKERS");
    if (brokers_.empty()) return;
    prefix_ = klaxon::testing::UniquePrefix();
    group_ = prefix_ + "group";
    topics_deleted_at_end_.Own(brokers_, prefix_);
  }

  void CreateTopicsWithPartitions(int32_t partitions) {
    absl::StatusOr<std::vector<TopicResult>> created =
        CreateTopics({.brokers = brokers_, .prefix = prefix_, .partitions = partitions});
    ASSERT_TRUE(created.ok()) << created.status();
    topic_ = *PrefixedTopic(prefix_, kSmsRequests);
  }

  // Topics with `partitions` partitions each, and publisher_ ready to write to them.
  void CreateTopicsAndPublisher(int32_t partitions) {
    ASSERT_NO_FATAL_FAILURE(CreateTopicsWithPartitions(partitions));
    publisher_ = NewPublisher();
    ASSERT_NE(publisher_, nullptr);
  }

  std::unique_ptr<KafkaPublisher> NewPublisher() {
    absl::StatusOr<std::unique_ptr<KafkaPublisher>> publisher =
        KafkaPublisher::Create({.brokers = brokers_, .client_id = "kafka-integration-test"});
    EXPECT_TRUE(publisher.ok()) << publisher.status();
    return publisher.ok() ? *std::move(publisher) : nullptr;
  }

  void Publish(std::string key, std::string value) {
    const absl::Status status = publisher_->Publish(
        {.topic = topic_, .key = std::move(key), .value = std::move(value)}, absl::Seconds(30));
    ASSERT_TRUE(status.ok()) << status;
  }

  std::unique_ptr<KafkaConsumer> NewConsumer() {
    absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer = KafkaConsumer::Create(
        {.brokers = brokers_,
         .group_id = group_,
         .topics = {topic_},
         .client_id = client_id_,
         .retry_backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(200)},
         .properties = properties_,
         .log = log_,
         .on_offset_stored = on_offset_stored_,
         .max_in_flight = max_in_flight_});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    return consumer.ok() ? *std::move(consumer) : nullptr;
  }

  // Runs `consumer` with a blocking `handler` on as many threads as messages may be in flight, as
  // the workers do.
  absl::Status RunBlocking(KafkaConsumer& consumer, messaging::MessageHandler& handler,
                           std::stop_token stop) {
    messaging::ThreadPoolHandler pooled(handler,
                                        {.threads = static_cast<size_t>(consumer.max_in_flight())});
    return consumer.Run(pooled, std::move(stop));
  }

  // Runs a fresh consumer of the test's group with `handler` until `done` holds, then stops it
  // (which commits its stored offsets) and returns whether `done` was reached.
  bool ConsumeUntil(RecordingHandler& handler,
                    const std::function<bool(const std::vector<InboundMessage>&)>& done) {
    std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
    if (consumer == nullptr) return false;
    absl::Status run_status = absl::UnknownError("Run did not return");
    std::jthread runner([&](std::stop_token stop) {
      run_status = RunBlocking(*consumer, handler, std::move(stop));
    });
    const bool reached = handler.WaitFor(done);
    runner.request_stop();
    runner.join();
    EXPECT_TRUE(run_status.ok()) << run_status;
    return reached;
  }

  // Starts a consumer of a fresh group named after `name`, stops it `stop_after` later, and
  // expects Run to return within seconds. A consumer whose close hangs is left running: the
  // failure is reported instead of the test hanging with it.
  void StopAfter(absl::Duration stop_after, const std::string& name) {
    group_ = absl::StrCat(prefix_, "group-", name);
    auto consumer = std::shared_ptr<KafkaConsumer>(NewConsumer());
    ASSERT_NE(consumer, nullptr);
    auto handler = std::make_shared<RecordingHandler>();
    auto ran = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> run_status = ran->get_future();
    std::stop_source stop;
    std::thread runner([this, consumer, handler, ran, token = stop.get_token()] {
      ran->set_value(RunBlocking(*consumer, *handler, token));
    });
    absl::SleepFor(stop_after);
    const absl::Time stopped = absl::Now();
    stop.request_stop();
    if (run_status.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      runner.detach();
      FAIL() << "Run did not return within 10 s of the stop";
    }
    runner.join();
    EXPECT_TRUE(run_status.get().ok());
    std::cout << name << ": Run returned in " << absl::Now() - stopped << "\n";
  }

  // Whatever topics the test made under prefix_ go after everything else of it.
  klaxon::testing::TopicsDeletedAtEnd topics_deleted_at_end_;
  std::string brokers_;
  std::string prefix_;
  std::string group_;
  std::string topic_;
  // Kafka's member ids begin with it, and eager (range) assignment gives a sole partition to the
  // member whose id sorts first.
  std::string client_id_ = "klaxon";
  int max_in_flight_ = 1;
  std::map<std::string, std::string> properties_;
  LogFn log_ = nullptr;  // nullptr: stderr
  OffsetStoredFn on_offset_stored_ = nullptr;
  std::unique_ptr<KafkaPublisher> publisher_;
};

// Holds every call until `wanted` calls run at the same time (or kWait passed), and records the
// most that ran at once.
class GatheringHandler final : public messaging::MessageHandler {
 public:
  explicit GatheringHandler(int wanted) : wanted_(wanted) {}

  absl::Status Handle(const InboundMessage& /*message*/) override {
    std::unique_lock lock(mutex_);
    ++running_;
    peak_ = std::max(peak_, running_);
    changed_.notify_all();
    changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait), [&] { return peak_ >= wanted_; });
    --running_;
    ++handled_;
    changed_.notify_all();
    return absl::OkStatus();
  }

  bool WaitForHandled(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait),
                             [&] { return handled_ >= count; });
  }

  int peak() {
    std::lock_guard lock(mutex_);
    return peak_;
  }

 private:
  const int wanted_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int running_ = 0;
  int peak_ = 0;
  int handled_ = 0;
};

TEST_F(KafkaIntegrationTest, MessagesOfDifferentKeysAreHandledAtOnce) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(Publish(absl::StrCat("k", i), "m"));
  max_in_flight_ = 4;
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);

  GatheringHandler handler(4);
  std::jthread runner([&](std::stop_token stop) { (void)RunBlocking(*consumer, handler, stop); });
  ASSERT_TRUE(handler.WaitForHandled(4));
  EXPECT_EQ(handler.peak(), 4);
}

TEST_F(KafkaIntegrationTest, MessagesOfOneKeyAreHandledInOrderWhileOthersRunAlongside) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  for (int i = 0; i < 10; ++i) {
    ASSERT_NO_FATAL_FAILURE(Publish("a", absl::StrCat("a", i)));
    ASSERT_NO_FATAL_FAILURE(Publish("b", absl::StrCat("b", i)));
  }
  max_in_flight_ = 8;

  RecordingHandler handler([](const InboundMessage&) {
    absl::SleepFor(absl::Milliseconds(5));  // lets the keys overlap
    return absl::OkStatus();
  });
  ASSERT_TRUE(ConsumeUntil(handler, [](const auto& seen) { return seen.size() >= 20; }));
  std::vector<int64_t> offsets_of_a;
  for (const InboundMessage& m : handler.Seen()) {
    if (m.key == "a") offsets_of_a.push_back(m.offset);
  }
  EXPECT_TRUE(std::is_sorted(offsets_of_a.begin(), offsets_of_a.end()));
  EXPECT_EQ(offsets_of_a.size(), 10u);
}

TEST_F(KafkaIntegrationTest, UnfinishedMessageKeepsLaterFinishedOnesUncommitted) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  ASSERT_NO_FATAL_FAILURE(Publish("b", "second"));
  ASSERT_NO_FATAL_FAILURE(Publish("c", "third"));
  max_in_flight_ = 4;

  // "first" is mid-flight (its dependency is down) when the consumer goes away, after the two
  // messages behind it were handled: none of them may be committed.
  RecordingHandler stuck([](const InboundMessage& m) {
    return m.value == "first" ? absl::UnavailableError("dependency down") : absl::OkStatus();
  });
  ASSERT_TRUE(ConsumeUntil(stuck, [](const auto& seen) {
    return Contains(seen, "second") && Contains(seen, "third") &&
           std::count_if(seen.begin(), seen.end(),
                         [](const InboundMessage& m) { return m.value == "first"; }) >= 2;
  }));

  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return seen.size() >= 3; }));
  EXPECT_TRUE(Contains(next.Seen(), "first"));
  EXPECT_TRUE(Contains(next.Seen(), "second"));
  EXPECT_TRUE(Contains(next.Seen(), "third"));
}

// Holds "first" until "second" (behind it in the partition, another key) was handled, and
// meanwhile records which offsets the consumer reported stored.
class HoldFirstHandler final : public messaging::MessageHandler {
 public:
  absl::Status Handle(const InboundMessage& message) override {
    std::unique_lock lock(mutex_);
    if (message.value == "second") {
      second_handled_ = true;
      changed_.notify_all();
      return absl::OkStatus();
    }
    changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait), [&] { return second_handled_; });
    // Time for the consumer to report "second" if it wrongly did so while "first" runs.
    lock.unlock();
    absl::SleepFor(absl::Milliseconds(300));
    lock.lock();
    reported_while_first_ran_ = reported_;
    changed_.notify_all();
    return absl::OkStatus();
  }

  void Reported(int64_t next_offset) {
    std::lock_guard lock(mutex_);
    reported_.push_back(next_offset);
    changed_.notify_all();
  }

  // Waits until "first" finished and `next_offset` was reported; false after kWait.
  bool WaitForFirstAndReport(int64_t next_offset) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait), [&] {
      return reported_while_first_ran_.has_value() &&
             std::find(reported_.begin(), reported_.end(), next_offset) != reported_.end();
    });
  }

  std::optional<std::vector<int64_t>> reported_while_first_ran() {
    std::lock_guard lock(mutex_);
    return reported_while_first_ran_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool second_handled_ = false;
  std::vector<int64_t> reported_;
  std::optional<std::vector<int64_t>> reported_while_first_ran_;
};

TEST_F(KafkaIntegrationTest, StoredOffsetIsReportedOnlyOnceEveryEarlierMessageFinished) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  ASSERT_NO_FATAL_FAILURE(Publish("b", "second"));
  max_in_flight_ = 4;
  HoldFirstHandler handler;
  on_offset_stored_ = [&](const std::string& topic, int32_t partition, int64_t next_offset) {
    EXPECT_EQ(topic, topic_);
    EXPECT_EQ(partition, 0);
    handler.Reported(next_offset);
  };
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);

  std::jthread runner([&](std::stop_token stop) { (void)RunBlocking(*consumer, handler, stop); });
  ASSERT_TRUE(handler.WaitForFirstAndReport(2));
  // "second" finished first, yet nothing was reported until "first" finished too.
  EXPECT_EQ(handler.reported_while_first_ran(), std::vector<int64_t>{});
}

TEST_F(KafkaIntegrationTest, CrashWithAMessageMidFlightRedeliversItAndEverythingAfterIt) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("z", "zero"));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  ASSERT_NO_FATAL_FAILURE(Publish("b", "second"));
  ASSERT_NO_FATAL_FAILURE(Publish("c", "third"));

  // Handles zero, second and third, then dies while "first" is still running.
  klaxon::testing::ChildProcess crashing({KLAXON_KAFKA_CRASH_CONSUMER, brokers_, topic_, group_},
                                         {}, ::testing::TempDir() + prefix_ + "crash.log");
  ASSERT_EQ(crashing.WaitForExit(kWait), 7) << crashing.Log();
  const absl::Time crashed = absl::Now();

  // The group resumes at "first": "zero" was committed, nothing past the unfinished message was.
  max_in_flight_ = 4;
  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return seen.size() >= 3; }));
  // The dead member held the partition until its 6 s session ran out (ConsumerOptions), not
  // librdkafka's default 45 s; the bound leaves room for the rebalance on a loaded machine.
  EXPECT_LT(absl::Now() - crashed, absl::Seconds(30)) << "the session timeout was not applied";
  EXPECT_FALSE(Contains(next.Seen(), "zero"));
  EXPECT_TRUE(Contains(next.Seen(), "first"));
  EXPECT_TRUE(Contains(next.Seen(), "second"));
  EXPECT_TRUE(Contains(next.Seen(), "third"));
}

TEST_F(KafkaIntegrationTest, PublishedMessageIsConsumedOnItsKeysPartition) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(3));
  const std::string key = prefix_ + "alert-1";
  ASSERT_NO_FATAL_FAILURE(Publish(key, "payload-1"));

  RecordingHandler handler;
  ASSERT_TRUE(ConsumeUntil(handler, [](const auto& seen) { return !seen.empty(); }));
  const InboundMessage got = handler.Seen().front();
  EXPECT_EQ(got.topic, topic_);
  EXPECT_EQ(got.key, key);
  EXPECT_EQ(got.value, "payload-1");
  EXPECT_EQ(got.offset, 0);
  EXPECT_EQ(got.partition, PartitionForKey(key, 3).value());
}

TEST_F(KafkaIntegrationTest, WatermarkAndPartitionCountDescribeTheTopic) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(3));
  const std::string key = prefix_ + "alert-2";
  ASSERT_NO_FATAL_FAILURE(Publish(key, "a"));
  ASSERT_NO_FATAL_FAILURE(Publish(key, "b"));

  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();
  // Statuses are asserted rather than unwrapped with value(), so a broker error shows its message
  // instead of an exception with no location.
  absl::StatusOr<int32_t> partitions = (*watermarks)->PartitionCount(topic_, absl::Seconds(10));
  ASSERT_TRUE(partitions.ok()) << partitions.status();
  EXPECT_EQ(*partitions, 3);
  absl::StatusOr<int32_t> partition = PartitionForKey(key, 3);
  ASSERT_TRUE(partition.ok()) << partition.status();
  absl::StatusOr<int64_t> written =
      (*watermarks)->HighWatermark(topic_, *partition, absl::Seconds(10));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, 2);
  absl::StatusOr<int64_t> empty =
      (*watermarks)->HighWatermark(topic_, (*partition + 1) % 3, absl::Seconds(10));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, 0);
}

TEST_F(KafkaIntegrationTest, WatermarksAnswerWithoutWaitingBehindAnIdleConsumersFetch) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("k", "only"));
  // Having read everything, the consumer waits at the broker for more, as audit's does between
  // alerts; a long wait makes any query held up behind it unmistakable.
  absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer =
      KafkaConsumer::Create({.brokers = brokers_,
                             .group_id = group_,
                             .topics = {topic_},
                             .properties = {{"fetch.wait.max.ms", "5000"}}});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  RecordingHandler handler;
  std::jthread runner([&](std::stop_token stop) { (void)RunBlocking(**consumer, handler, stop); });
  ASSERT_TRUE(handler.WaitFor([](const auto& seen) { return !seen.empty(); }));

  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_, .client_id = "kafka-integration-test"});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();
  absl::StatusOr<int32_t> partitions = (*watermarks)->PartitionCount(topic_, absl::Seconds(10));
  ASSERT_TRUE(partitions.ok()) << partitions.status();
  EXPECT_EQ(*partitions, 1);
  for (int query = 0; query < 3; ++query) {
    const absl::Time start = absl::Now();
    absl::StatusOr<int64_t> written = (*watermarks)->HighWatermark(topic_, 0, absl::Seconds(10));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, 1);
    EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "query " << query;
  }
}

TEST_F(KafkaIntegrationTest, GroupBacklogCountsWhatTheGroupHasNotCommittedOnEveryPartition) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(3));
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(Publish(absl::StrCat("k", i), "before"));
  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_, .group_id = group_});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();

  // A group that committed nothing yet will read everything: all of it is backlog.
  absl::StatusOr<int64_t> backlog = (*watermarks)->GroupBacklog(topic_, absl::Seconds(10));
  ASSERT_TRUE(backlog.ok()) << backlog.status();
  EXPECT_EQ(*backlog, 6);

  // Once the group handled and committed those, only what came after is.
  RecordingHandler handler;
  ASSERT_TRUE(ConsumeUntil(handler, [](const auto& seen) { return seen.size() >= 6; }));
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(Publish(absl::StrCat("k", i), "after"));
  backlog = (*watermarks)->GroupBacklog(topic_, absl::Seconds(10));
  ASSERT_TRUE(backlog.ok()) << backlog.status();
  EXPECT_EQ(*backlog, 4);
}

TEST_F(KafkaIntegrationTest, GroupBacklogNeedsAGroup) {
  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();
  EXPECT_EQ((*watermarks)->GroupBacklog("any", absl::Seconds(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(KafkaIntegrationTest, RetryableFailureLeavesOffsetForNextConsumer) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("k", "first"));

  // The handler's dependency is down: the consumer retries the same message until stopped.
  RecordingHandler failing(
      [](const InboundMessage&) { return absl::UnavailableError("dependency down"); });
  ASSERT_TRUE(ConsumeUntil(failing, [](const auto& seen) { return seen.size() >= 3; }));
  for (const InboundMessage& attempt : failing.Seen()) EXPECT_EQ(attempt.value, "first");

  // Nothing was stored, so the group's next member starts at the same message.
  RecordingHandler succeeding;
  ASSERT_TRUE(ConsumeUntil(succeeding, [](const auto& seen) { return !seen.empty(); }));
  EXPECT_EQ(succeeding.Seen().front().value, "first");
  EXPECT_EQ(succeeding.Seen().front().offset, 0);

  // Once handled, it is committed: the member after that starts past it.
  ASSERT_NO_FATAL_FAILURE(Publish("k", "second"));
  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return Contains(seen, "second"); }));
  EXPECT_EQ(next.Seen().front().value, "second");
}

TEST_F(KafkaIntegrationTest, LagReportCountsMessagesTheGroupHasNotCommitted) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  constexpr int kPublished = 10;
  constexpr int64_t kHandled = 4;
  for (int i = 0; i < kPublished; ++i) ASSERT_NO_FATAL_FAILURE(Publish("k", std::to_string(i)));

  std::mutex mutex;
  std::condition_variable reported;
  std::optional<int64_t> lag;  // guarded by mutex
  absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer = KafkaConsumer::Create(
      {.brokers = brokers_,
       .group_id = group_,
       .topics = {topic_},
       .retry_backoff = {.initial = absl::Milliseconds(20), .max = absl::Milliseconds(200)},
       .properties = {{"auto.commit.interval.ms", "100"}},
       .on_lag =
           [&](const std::vector<PartitionLag>& lags) {
             std::lock_guard lock(mutex);
             for (const PartitionLag& entry : lags) {
               if (entry.topic == topic_ && entry.partition == 0) lag = entry.lag;
             }
             reported.notify_all();
           },
       .lag_interval = absl::Milliseconds(100)});
  ASSERT_TRUE(consumer.ok()) << consumer.status();

  // The first kHandled messages are handled; then a dependency goes down and the consumer holds
  // the next one in retry backoff, so the group stays kHandled messages into the partition.
  RecordingHandler stalling([](const InboundMessage& message) {
    return message.offset < kHandled ? absl::OkStatus() : absl::UnavailableError("down");
  });
  absl::Status run_status = absl::UnknownError("Run did not return");
  std::jthread runner([&](std::stop_token stop) {
    run_status = RunBlocking(**consumer, stalling, std::move(stop));
  });
  bool expected_lag_reported = false;
  {
    std::unique_lock lock(mutex);
    expected_lag_reported = reported.wait_for(lock, absl::ToChronoNanoseconds(kWait),
                                              [&] { return lag == kPublished - kHandled; });
  }
  runner.request_stop();
  runner.join();
  EXPECT_TRUE(run_status.ok()) << run_status;
  EXPECT_TRUE(expected_lag_reported) << "last reported lag: " << lag.value_or(-1);
}

TEST_F(KafkaIntegrationTest, PermanentFailureIsSkipped) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("k", "broken"));
  ASSERT_NO_FATAL_FAILURE(Publish("k", "fine"));

  RecordingHandler handler([](const InboundMessage& message) {
    return message.value == "broken" ? absl::InvalidArgumentError("cannot parse")
                                     : absl::OkStatus();
  });
  ASSERT_TRUE(ConsumeUntil(handler, [](const auto& seen) { return Contains(seen, "fine"); }));
  // Handed over once, not retried.
  EXPECT_EQ(handler.Seen().size(), 2u);

  ASSERT_NO_FATAL_FAILURE(Publish("k", "later"));
  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return !seen.empty(); }));
  EXPECT_EQ(next.Seen().front().value, "later");
}

TEST_F(KafkaIntegrationTest, CreateTopicsTwiceIsOk) {
  const CreateTopicsOptions options{.brokers = brokers_, .prefix = prefix_, .partitions = 2};
  absl::StatusOr<std::vector<TopicResult>> first = CreateTopics(options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), kTopics.size());
  for (const TopicResult& topic : *first) EXPECT_TRUE(topic.created) << topic.name;

  absl::StatusOr<std::vector<TopicResult>> second = CreateTopics(options);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), kTopics.size());
  for (const TopicResult& topic : *second) EXPECT_FALSE(topic.created) << topic.name;
}

TEST_F(KafkaIntegrationTest, DeleteTopicsRemovesThePrefixsTopicsAndNoOthers) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsWithPartitions(1));
  const std::string other_prefix = klaxon::testing::UniquePrefix();
  klaxon::testing::TopicsDeletedAtEnd other_topics_deleted_at_end;
  other_topics_deleted_at_end.Own(brokers_, other_prefix);
  ASSERT_TRUE(CreateTopics({.brokers = brokers_, .prefix = other_prefix, .partitions = 1}).ok());

  absl::StatusOr<std::vector<std::string>> deleted =
      DeleteTopics({.brokers = brokers_, .prefix = prefix_});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->size(), kTopics.size());
  EXPECT_THAT(*deleted, ::testing::Contains(topic_));

  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_, .client_id = "kafka-integration-test"});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();
  // The brokers learn of the deletion from the controller a moment after it answered.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<int32_t> deleted_partitions = 0;
  while (deleted_partitions.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    deleted_partitions = (*watermarks)->PartitionCount(topic_, absl::Seconds(2));
  }
  EXPECT_FALSE(deleted_partitions.ok()) << topic_ << " still has partitions";
  // The other prefix's topics stay; a broker may learn of their creation a moment late too.
  const std::string other_topic = *PrefixedTopic(other_prefix, kSmsRequests);
  absl::StatusOr<int32_t> others = (*watermarks)->PartitionCount(other_topic, absl::Seconds(2));
  while (!others.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    others = (*watermarks)->PartitionCount(other_topic, absl::Seconds(2));
  }
  ASSERT_TRUE(others.ok()) << others.status();
  EXPECT_EQ(*others, 1);
  // Deleting again finds nothing left to delete.
  absl::StatusOr<std::vector<std::string>> again =
      DeleteTopics({.brokers = brokers_, .prefix = prefix_});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(*again, ::testing::IsEmpty());
}

TEST_F(KafkaIntegrationTest, PublishAfterTopicsExistNeedsNoRetry) {
  // CreateTopics waits for the controller, so the very first publish must find the topic.
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(6));
  const absl::Status status = publisher_->Publish(
      {.topic = *PrefixedTopic(prefix_, kDlq), .key = "k", .value = "v"}, absl::Seconds(10));
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(KafkaIntegrationTest, PublishAsyncCompletesEachMessageOnceFromItsDeliveryReport) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(6));
  constexpr int kMessages = 300;
  std::mutex mutex;
  std::condition_variable changed;
  int completed = 0;
  std::vector<absl::Status> failures;
  std::promise<absl::Status> chained;
  for (int i = 0; i < kMessages; ++i) {
    publisher_->PublishAsync(
        {.topic = topic_, .key = absl::StrCat("k", i % 7), .value = absl::StrCat("v", i)},
        [&, i](absl::Status status) {
          // A completion may publish again: it runs outside the publisher's locks.
          if (i == 0) {
            publisher_->PublishAsync({.topic = topic_, .key = "k", .value = "chained"},
                                     [&](absl::Status again) { chained.set_value(again); });
          }
          std::lock_guard lock(mutex);
          if (!status.ok()) failures.push_back(std::move(status));
          ++completed;
          changed.notify_all();
        });
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        changed.wait_for(lock, std::chrono::seconds(30), [&] { return completed == kMessages; }));
    EXPECT_TRUE(failures.empty()) << failures.front();
  }
  std::future<absl::Status> chained_status = chained.get_future();
  ASSERT_EQ(chained_status.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(chained_status.get().ok());

  absl::StatusOr<std::unique_ptr<KafkaWatermarks>> watermarks =
      KafkaWatermarks::Create({.brokers = brokers_});
  ASSERT_TRUE(watermarks.ok()) << watermarks.status();
  int64_t written = 0;
  for (int32_t partition = 0; partition < 6; ++partition) {
    absl::StatusOr<int64_t> end =
        (*watermarks)->HighWatermark(topic_, partition, absl::Seconds(10));
    ASSERT_TRUE(end.ok()) << end.status();
    written += *end;
  }
  EXPECT_EQ(written, kMessages + 1);  // each exactly once
}

// An asynchronous handler that keeps each message's completion instead of calling it, so the test
// completes it later, from its own thread.
class ParkingHandler final : public messaging::AsyncMessageHandler {
 public:
  void Handle(const InboundMessage& message, messaging::HandleDone done) override {
    std::lock_guard lock(mutex_);
    parked_.push_back({.value = message.value, .done = std::move(done)});
    seen_.push_back(message.value);
    ++handled_;
    peak_ = std::max(peak_, parked_.size());
    changed_.notify_all();
  }

  // Waits until `count` completions are parked; false after kWait.
  bool WaitForParked(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait),
                             [&] { return parked_.size() >= count; });
  }

  // Completes every parked message with `status`, from the calling thread; their values.
  std::vector<std::string> CompleteAll(const absl::Status& status) {
    std::vector<Parked> parked;
    {
      std::lock_guard lock(mutex_);
      parked.swap(parked_);
    }
    std::vector<std::string> values;
    for (Parked& entry : parked) {
      values.push_back(entry.value);
      std::move(entry.done)(status);
    }
    return values;
  }

  size_t handled() {
    std::lock_guard lock(mutex_);
    return handled_;
  }
  // Every value handed over so far, retries included.
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  // The most messages handed over and not completed at one time.
  size_t peak() {
    std::lock_guard lock(mutex_);
    return peak_;
  }

 private:
  struct Parked {
    std::string value;
    messaging::HandleDone done;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Parked> parked_;
  std::vector<std::string> seen_;
  size_t handled_ = 0;
  size_t peak_ = 0;
};

// The process's thread count, from /proc/self/status.
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(KafkaIntegrationTest, AsyncHandlerKeepsMaxInFlightMessagesWithoutAThreadEach) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  constexpr size_t kPublished = 300;
  for (size_t i = 0; i < kPublished; ++i) {
    ASSERT_NO_FATAL_FAILURE(Publish(absl::StrCat("k", i), absl::StrCat("m", i)));
  }
  max_in_flight_ = 1000;  // as audit runs
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);
  const int threads_before = ThreadCount();

  ParkingHandler handler;
  std::jthread runner([&](std::stop_token stop) { (void)consumer->Run(handler, stop); });
  ASSERT_TRUE(handler.WaitForParked(kPublished));
  // Every message is in flight at once, yet the consumer added only its dispatching thread
  // (and the runner here) to librdkafka's; a thread per message would be 300 more.
  const int threads_in_flight = ThreadCount();
  std::cout << "threads: " << threads_before << " before Run, " << threads_in_flight << " with "
            << kPublished << " messages in flight (max_in_flight " << max_in_flight_ << ")\n";
  EXPECT_LT(threads_in_flight - threads_before, 10);
  handler.CompleteAll(absl::OkStatus());
}

TEST_F(KafkaIntegrationTest, AsyncHandlerNeverHasMoreThanMaxInFlightMessages) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  for (int i = 0; i < 9; ++i) ASSERT_NO_FATAL_FAILURE(Publish(absl::StrCat("k", i), "m"));
  max_in_flight_ = 3;
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);

  ParkingHandler handler;
  std::jthread runner([&](std::stop_token stop) { (void)consumer->Run(handler, stop); });
  // Completed three at a time from this thread: each completion makes room for one more.
  for (size_t round = 1; round <= 3; ++round) {
    ASSERT_TRUE(handler.WaitForParked(3)) << "round " << round;
    EXPECT_EQ(handler.CompleteAll(absl::OkStatus()).size(), 3u);
  }
  EXPECT_EQ(handler.handled(), 9u);
  EXPECT_EQ(handler.peak(), 3u);
}

TEST_F(KafkaIntegrationTest, AsyncCompletionFromAnotherThreadCommitsTheOffset) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  std::mutex mutex;
  std::condition_variable changed;
  int64_t stored = 0;  // guarded by mutex
  on_offset_stored_ = [&](const std::string&, int32_t, int64_t next_offset) {
    std::lock_guard lock(mutex);
    stored = next_offset;
    changed.notify_all();
  };
  {
    std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
    ASSERT_NE(consumer, nullptr);
    ParkingHandler handler;
    std::jthread runner([&](std::stop_token stop) { (void)consumer->Run(handler, stop); });
    ASSERT_TRUE(handler.WaitForParked(1));
    std::jthread completer([&] { handler.CompleteAll(absl::OkStatus()); });
    std::unique_lock lock(mutex);
    ASSERT_TRUE(
        changed.wait_for(lock, absl::ToChronoNanoseconds(kWait), [&] { return stored == 1; }));
  }
  // Committed on stop: the group's next consumer starts after it.
  on_offset_stored_ = nullptr;
  ASSERT_NO_FATAL_FAILURE(Publish("a", "second"));
  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return !seen.empty(); }));
  EXPECT_EQ(next.Seen().front().value, "second");
}

TEST_F(KafkaIntegrationTest, StopWaitsForAPendingCompletionAndCommitsIt) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);
  ParkingHandler handler;
  std::promise<absl::Status> ran;
  std::future<absl::Status> run_status = ran.get_future();
  std::jthread runner([&](std::stop_token stop) { ran.set_value(consumer->Run(handler, stop)); });
  ASSERT_TRUE(handler.WaitForParked(1));

  runner.request_stop();
  // A bounded wait for something that must not happen: Run() may not return before the message
  // it handed over completed.
  EXPECT_EQ(run_status.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  handler.CompleteAll(absl::OkStatus());
  ASSERT_EQ(run_status.wait_for(absl::ToChronoNanoseconds(kWait)), std::future_status::ready);
  EXPECT_TRUE(run_status.get().ok());

  ASSERT_NO_FATAL_FAILURE(Publish("a", "second"));
  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return !seen.empty(); }));
  EXPECT_EQ(next.Seen().front().value, "second");
}

TEST_F(KafkaIntegrationTest, AsyncRetryableResultIsHandedOverAgainAfterTheBackoff) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();
  ASSERT_NE(consumer, nullptr);
  ParkingHandler handler;
  std::jthread runner([&](std::stop_token stop) { (void)consumer->Run(handler, stop); });
  ASSERT_TRUE(handler.WaitForParked(1));
  EXPECT_EQ(handler.CompleteAll(absl::UnavailableError("down")), std::vector<std::string>{"first"});
  // The backoff's timer hands the same message over again.
  ASSERT_TRUE(handler.WaitForParked(1));
  EXPECT_EQ(handler.CompleteAll(absl::OkStatus()), std::vector<std::string>{"first"});
  EXPECT_EQ(handler.handled(), 2u);
}

// A consumer full for longer than it waits for room pauses its partitions and polls on (so it still
// serves rebalances); once there is room it resumes where it paused: every message once, in order.
TEST_F(KafkaIntegrationTest, AConsumerFullForSecondsResumesWhereItPaused) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  for (const std::string value : {"first", "second", "third"}) {
    ASSERT_NO_FATAL_FAILURE(Publish(value, value));
  }
  std::unique_ptr<KafkaConsumer> consumer = NewConsumer();  // max_in_flight 1
  ASSERT_NE(consumer, nullptr);
  ParkingHandler parked;
  std::jthread running([&](std::stop_token stop) { (void)consumer->Run(parked, stop); });
  for (const std::string expected : {"first", "second", "third"}) {
    ASSERT_TRUE(parked.WaitForParked(1)) << "waiting for " << expected;
    absl::SleepFor(absl::Seconds(2));  // full past the consumer's patience: it pauses
    EXPECT_EQ(parked.CompleteAll(absl::OkStatus()), std::vector<std::string>{expected});
  }
  // A bounded wait for what must not happen: a message handed over twice.
  EXPECT_FALSE(klaxon::testing::PollUntil([&] { return parked.handled() > 3; }, absl::Seconds(2)));
  EXPECT_EQ(parked.seen(), (std::vector<std::string>{"first", "second", "third"}));
}

// A worker stopped just after it started (a rollout that changes its mind) closes its consumers
// while they join their groups: the close's revocation must not wait on the group's thread, under
// either rebalance protocol.
TEST_F(KafkaIntegrationTest, StopDuringTheFirstGroupJoinReturnsWithinSeconds) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(3));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  for (const std::string strategy : {"range,roundrobin", "cooperative-sticky"}) {
    properties_["partition.assignment.strategy"] = strategy;
    for (const absl::Duration stop_after :
         {absl::ZeroDuration(), absl::Milliseconds(5), absl::Milliseconds(10),
          absl::Milliseconds(20), absl::Milliseconds(40), absl::Milliseconds(80),
          absl::Milliseconds(150), absl::Milliseconds(300), absl::Milliseconds(500),
          absl::Milliseconds(1000), absl::Milliseconds(3000)}) {
      SCOPED_TRACE(absl::StrCat(strategy, ", stopped ", absl::FormatDuration(stop_after),
                                " after the start"));
      ASSERT_NO_FATAL_FAILURE(
          StopAfter(stop_after, absl::StrCat(strategy == "cooperative-sticky" ? "coop" : "eager",
                                             "-", absl::ToInt64Milliseconds(stop_after), "ms")));
    }
  }
}

TEST_F(KafkaIntegrationTest, StopEndsARetryBackoffAtOnceAndLeavesTheMessageUncommitted) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer = KafkaConsumer::Create(
      {.brokers = brokers_,
       .group_id = group_,
       .topics = {topic_},
       .retry_backoff = {.initial = absl::Minutes(10), .max = absl::Minutes(10)}});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ParkingHandler handler;
  std::promise<absl::Status> ran;
  std::future<absl::Status> run_status = ran.get_future();
  std::jthread runner(
      [&](std::stop_token stop) { ran.set_value((*consumer)->Run(handler, stop)); });
  ASSERT_TRUE(handler.WaitForParked(1));
  handler.CompleteAll(absl::UnavailableError("down"));  // retried in ten minutes

  runner.request_stop();
  ASSERT_EQ(run_status.wait_for(absl::ToChronoNanoseconds(kWait)), std::future_status::ready);
  EXPECT_TRUE(run_status.get().ok());
  EXPECT_EQ(handler.handled(), 1u);

  RecordingHandler next;
  ASSERT_TRUE(ConsumeUntil(next, [](const auto& seen) { return !seen.empty(); }));
  EXPECT_EQ(next.Seen().front().value, "first");
}

TEST_F(KafkaIntegrationTest, RevocationWaitsForAPendingCompletionBeforeTheNewOwnerReads) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  // The owner hears of the rebalance at its next heartbeat: soon, well inside the wait below.
  properties_ = {{"heartbeat.interval.ms", "100"}};
  // Room for more, so the owner keeps polling, and so serving the rebalance, while "first" is
  // pending.
  max_in_flight_ = 4;
  std::unique_ptr<KafkaConsumer> owner = NewConsumer();
  ASSERT_NE(owner, nullptr);
  ParkingHandler parked;
  std::jthread owning([&](std::stop_token stop) { (void)owner->Run(parked, stop); });
  ASSERT_TRUE(parked.WaitForParked(1));

  // A second member joins: the group rebalances and takes the partition from the owner, whose
  // revocation must wait until "first" completed.
  std::unique_ptr<KafkaConsumer> joiner = NewConsumer();
  ASSERT_NE(joiner, nullptr);
  RecordingHandler recorded;
  std::jthread joining(
      [&](std::stop_token stop) { (void)RunBlocking(*joiner, recorded, std::move(stop)); });
  // A bounded wait for something that must not happen while "first" is pending.
  EXPECT_FALSE(recorded.WaitFor([](const auto& seen) { return !seen.empty(); }, absl::Seconds(3)));
  parked.CompleteAll(absl::OkStatus());

  // Whichever member owns the partition now starts after "first": it was stored before the
  // revocation let the partition go.
  ASSERT_NO_FATAL_FAILURE(Publish("a", "second"));
  ASSERT_TRUE(klaxon::testing::PollUntil(
      [&] {
        return Contains(recorded.Seen(), "second") ||
               std::ranges::count(parked.seen(), std::string("second")) > 0;
      },
      kWait));
  EXPECT_FALSE(Contains(recorded.Seen(), "first"));
  EXPECT_EQ(std::ranges::count(parked.seen(), std::string("first")), 1);
  parked.CompleteAll(absl::OkStatus());
}

// Holds each message until the consumer gives it up (InboundMessage::given_up), then completes it
// kUnavailable from a thread of its own, as a retry tier's timers do. A hold never given up ends
// after twice kWait and is counted, so such a consumer fails the test instead of hanging it.
class HoldingHandler final : public messaging::AsyncMessageHandler {
 public:
  void Handle(const InboundMessage& message, messaging::HandleDone done) override {
    std::lock_guard lock(mutex_);
    seen_.push_back(message.value);
    holds_.emplace_back([this, value = message.value, given_up = message.given_up,
                         done = std::move(done)]() mutable {
      std::mutex waiting;
      std::condition_variable_any never;
      std::unique_lock held(waiting);
      never.wait_for(held, given_up, absl::ToChronoNanoseconds(2 * kWait), [] { return false; });
      if (given_up.stop_requested()) {
        std::lock_guard recording(mutex_);
        given_up_.push_back(value);
      } else {
        ++timed_out_;
      }
      std::move(done)(absl::UnavailableError("given up"));
    });
    changed_.notify_all();
  }

  // Waits until `count` messages were handed over; false after kWait.
  bool WaitForSeen(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait),
                             [&] { return seen_.size() >= count; });
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  // The values whose holds the consumer gave up, in that order.
  std::vector<std::string> given_up() {
    std::lock_guard lock(mutex_);
    return given_up_;
  }
  // Holds that ended on their own, not given up.
  int timed_out() const { return timed_out_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<int> timed_out_ = 0;
  std::vector<std::string> seen_;      // guarded by mutex_
  std::vector<std::string> given_up_;  // guarded by mutex_
  std::vector<std::jthread> holds_;    // guarded by mutex_; joined last
};

// A message its handler only holds (a retry tier's wait, up to minutes) does not hold up a
// rebalance: the revocation tells the handler, which gives it back, and the partition's next owner
// reads it again at once.
TEST_F(KafkaIntegrationTest, RevocationGivesUpAHeldMessageSoTheNewOwnerReadsItAtOnce) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  properties_ = {{"heartbeat.interval.ms", "100"}};
  max_in_flight_ = 4;
  HoldingHandler holding;
  std::unique_ptr<KafkaConsumer> owner = NewConsumer();
  ASSERT_NE(owner, nullptr);
  std::jthread owning([&](std::stop_token stop) { (void)owner->Run(holding, stop); });
  ASSERT_TRUE(holding.WaitForSeen(1));

  RecordingHandler recorded;
  std::unique_ptr<KafkaConsumer> joiner = NewConsumer();
  ASSERT_NE(joiner, nullptr);
  std::jthread joining(
      [&](std::stop_token stop) { (void)RunBlocking(*joiner, recorded, std::move(stop)); });
  // Whichever member owns the partition after the rebalance reads "first" again: held forever
  // otherwise, it would keep the revocation waiting.
  EXPECT_TRUE(klaxon::testing::PollUntil(
      [&] {
        return Contains(recorded.Seen(), "first") ||
               std::ranges::count(holding.seen(), std::string("first")) >= 2;
      },
      kWait));
  EXPECT_EQ(holding.timed_out(), 0);
}

// A member of the test's group, running on a thread of its own until it is destroyed or
// `running` is stopped and joined (which gives its holds up, commits and leaves the group).
struct Member {
  std::unique_ptr<KafkaConsumer> consumer;
  std::jthread running;  // declared last: stopped and joined before the consumer goes
};

// A group whose members hold what they are handed, as a retry tier's do, rebalancing with
// `assignment`.
class KafkaHoldingGroupTest : public KafkaIntegrationTest {
 protected:
  void SetUp() override {
    KafkaIntegrationTest::SetUp();
    log_ = [this, stderr_log = StderrLog()](std::string_view level, std::string_view event,
                                             std::string_view detail) {
      {
        std::lock_guard lock(log_mutex_);
        logged_.push_back(std::string(event) + " " + std::string(detail));
      }
      stderr_log(level, event, detail);
    };
  }
  // How many of the members' log lines so far hold `word`.
  int Logged(std::string_view word) {
    std::lock_guard lock(log_mutex_);
    return static_cast<int>(std::ranges::count_if(
        logged_, [&](const std::string& line) { return line.find(word) != std::string::npos; }));
  }
  void UseAssignment(std::string_view assignment) {
    properties_ = {{"heartbeat.interval.ms", "100"},
                   {"partition.assignment.strategy", std::string(assignment)}};
    max_in_flight_ = 4;
  }
  // A new member running `handler` as a TierHandler runs; nullptr consumer when it failed.
  Member JoinHolding(messaging::AsyncMessageHandler& handler) {
    Member member{.consumer = NewConsumer()};
    if (member.consumer != nullptr) {
      member.running = std::jthread([consumer = member.consumer.get(), &handler](
                                        std::stop_token stop) { (void)consumer->Run(handler, stop); });
    }
    return member;
  }
  // A new member running a blocking `handler` on a pool, as the workers' request consumers do.
  Member JoinRecording(messaging::MessageHandler& handler) {
    Member member{.consumer = NewConsumer()};
    if (member.consumer != nullptr) {
      member.running =
          std::jthread([this, consumer = member.consumer.get(), &handler](std::stop_token stop) {
            (void)RunBlocking(*consumer, handler, std::move(stop));
          });
    }
    return member;
  }

 private:
  std::mutex log_mutex_;
  std::vector<std::string> logged_;  // guarded by log_mutex_
};

// A worker stopped seconds after its start closes its retry tiers' cooperative consumers while
// their groups still settle among the members that started with them. librdkafka 2.0 aborts the
// process when a cooperative consumer is destroyed between the JoinGroup response that chose its
// assignor and its first assignment (librdkafka #4312), so the consumer waits for that assignment
// before it closes. An abort ends this test binary, so it fails too; a wait that ended with the
// session timeout instead of the assignment logs kafka_close_before_first_assignment.
TEST_F(KafkaHoldingGroupTest, CooperativeMembersStoppedWhileTheirGroupSettlesCloseCleanly) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(3));
  properties_["partition.assignment.strategy"] = kCooperativeAssignment;
  constexpr size_t kMembers = 5;
  for (const absl::Duration stop_after : {absl::Milliseconds(300), absl::Milliseconds(600),
                                          absl::Milliseconds(1200), absl::Milliseconds(2400)}) {
    SCOPED_TRACE(absl::StrCat("stopped ", absl::FormatDuration(stop_after), " after the start"));
    group_ = absl::StrCat(prefix_, "group-settling-", absl::ToInt64Milliseconds(stop_after));
    std::vector<std::unique_ptr<KafkaConsumer>> members;
    for (size_t i = 0; i < kMembers; ++i) {
      members.push_back(NewConsumer());
      ASSERT_NE(members.back(), nullptr);
    }
    std::vector<RecordingHandler> handlers(kMembers);
    std::vector<absl::Status> ran(kMembers, absl::UnknownError("Run did not return"));
    std::vector<std::jthread> runners;
    for (size_t i = 0; i < kMembers; ++i) {
      runners.emplace_back([&, i](std::stop_token stop) {
        ran[i] = RunBlocking(*members[i], handlers[i], std::move(stop));
      });
    }
    absl::SleepFor(stop_after);
    const absl::Time stopped = absl::Now();
    for (std::jthread& runner : runners) runner.request_stop();
    runners.clear();
    const absl::Duration returned_after = absl::Now() - stopped;
    for (const absl::Status& status : ran) EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(Logged("kafka_close_before_first_assignment"), 0);
    std::cout << "stopped " << stop_after << " after the start: the members returned in "
              << returned_after << "\n";
  }
}

// With cooperative assignment a member that joins takes one of the owner's two partitions, and
// only that partition's held message is given back; the other stays held where it is. Eager
// assignment would give both back, and the owner would read its kept partition's message again.
TEST_F(KafkaHoldingGroupTest, CooperativeRebalanceGivesBackOnlyTheHeldMessagesOfPartitionsThatMove) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(2));
  ASSERT_NO_FATAL_FAILURE(Publish(KeyOnPartition(0, 2), "on-0"));
  ASSERT_NO_FATAL_FAILURE(Publish(KeyOnPartition(1, 2), "on-1"));
  UseAssignment(kCooperativeAssignment);
  HoldingHandler holding;
  const Member owner = JoinHolding(holding);
  ASSERT_NE(owner.consumer, nullptr);
  ASSERT_TRUE(holding.WaitForSeen(2));

  RecordingHandler recorded;
  const Member joiner = JoinRecording(recorded);
  ASSERT_NE(joiner.consumer, nullptr);
  ASSERT_TRUE(recorded.WaitFor([](const auto& seen) { return !seen.empty(); }));
  // A bounded wait for what must not happen: the kept partition's message read again.
  EXPECT_FALSE(
      klaxon::testing::PollUntil([&] { return holding.seen().size() > 2; }, absl::Seconds(3)));
  ASSERT_EQ(recorded.Seen().size(), 1u);
  EXPECT_EQ(holding.given_up(), std::vector<std::string>{recorded.Seen().front().value});
  EXPECT_EQ(holding.timed_out(), 0);
}

// A group of more members than partitions (two workers on a tier of one partition): the member
// that joins gets nothing and disturbs nothing, and takes the held message over when the owner
// leaves.
TEST_F(KafkaHoldingGroupTest, CooperativeMemberWithNothingToTakeTakesOverWhenTheOwnerLeaves) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  UseAssignment(kCooperativeAssignment);
  HoldingHandler holding;
  Member owner = JoinHolding(holding);
  ASSERT_NE(owner.consumer, nullptr);
  ASSERT_TRUE(holding.WaitForSeen(1));

  RecordingHandler recorded;
  const Member joiner = JoinRecording(recorded);
  ASSERT_NE(joiner.consumer, nullptr);
  EXPECT_FALSE(recorded.WaitFor([](const auto& seen) { return !seen.empty(); }, absl::Seconds(5)));
  EXPECT_TRUE(holding.given_up().empty());

  owner.running.request_stop();
  owner.running.join();
  EXPECT_TRUE(recorded.WaitFor([](const auto& seen) { return Contains(seen, "first"); }));
  EXPECT_EQ(holding.timed_out(), 0);
}

// A member whose every message in flight is held (a full retry tier) still serves a rebalance: it
// pauses its partitions and polls on, so a member that joins gets its share within seconds. One
// that stopped polling while full would keep the group waiting up to max.poll.interval.ms
// (librdkafka's default, 5 minutes; a tier's delay and 5 minutes).
TEST_F(KafkaHoldingGroupTest, AFullMemberServesARebalanceWithinSeconds) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(2));
  ASSERT_NO_FATAL_FAILURE(Publish(KeyOnPartition(0, 2), "on-0"));
  ASSERT_NO_FATAL_FAILURE(Publish(KeyOnPartition(1, 2), "on-1"));
  UseAssignment(kCooperativeAssignment);
  max_in_flight_ = 1;
  HoldingHandler holding;
  const Member owner = JoinHolding(holding);
  ASSERT_NE(owner.consumer, nullptr);
  ASSERT_TRUE(holding.WaitForSeen(1));

  RecordingHandler recorded;
  const Member joiner = JoinRecording(recorded);
  ASSERT_NE(joiner.consumer, nullptr);
  EXPECT_TRUE(recorded.WaitFor([](const auto& seen) { return !seen.empty(); }, absl::Seconds(30)));
  EXPECT_EQ(holding.timed_out(), 0);
}

// A partition taken from a member while it was paused (full) is fetched when it comes back to that
// member after it resumed. librdkafka keeps a partition's pause through an unassignment, so the
// consumer lifts it as the partition goes; kept, the partition would come back paused and nothing
// on it would be read again (the member is not paused any more, so nothing would resume it).
TEST_F(KafkaHoldingGroupTest, APartitionLostWhilePausedIsFetchedWhenItComesBack) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  UseAssignment(kEagerAssignment);
  max_in_flight_ = 1;
  client_id_ = "z-owner";
  HoldingHandler holding;
  const Member owner = JoinHolding(holding);
  ASSERT_NE(owner.consumer, nullptr);
  ASSERT_TRUE(holding.WaitForSeen(1));
  // Its one place taken by a held message, the owner pauses its partition after a second.
  ASSERT_TRUE(klaxon::testing::PollUntil([&] { return Logged("kafka_consumer_paused") > 0; },
                                         absl::Seconds(10)));

  // The joiner's id sorts first, so the partition moves to it, and the held message with it.
  client_id_ = "a-joiner";
  RecordingHandler recorded;
  Member joiner = JoinRecording(recorded);
  ASSERT_NE(joiner.consumer, nullptr);
  ASSERT_TRUE(recorded.WaitFor([](const auto& seen) { return Contains(seen, "first"); }));
  EXPECT_EQ(holding.given_up(), std::vector<std::string>{"first"});

  // The joiner leaves; the partition comes back to the owner, which has resumed meanwhile.
  joiner.running.request_stop();
  joiner.running.join();
  ASSERT_NO_FATAL_FAILURE(Publish("a", "second"));
  EXPECT_TRUE(klaxon::testing::PollUntil(
      [&] { return std::ranges::count(holding.seen(), std::string("second")) == 1; }, kWait));
  EXPECT_EQ(std::ranges::count(holding.seen(), std::string("first")), 1);
  EXPECT_EQ(holding.timed_out(), 0);
}

// A rolling update that moves a group from eager to cooperative assignment (the release that made
// the retry tiers' groups cooperative): Kafka refuses the new member while an old one is in the
// group (INCONSISTENT_GROUP_PROTOCOL), the old member keeps its partition and its held message,
// and once the last old member leaves the new one takes over. Nothing is lost or read twice.
TEST_F(KafkaHoldingGroupTest, CooperativeMemberTakesAnEagerGroupOverOnceItsLastMemberLeaves) {
  ASSERT_NO_FATAL_FAILURE(CreateTopicsAndPublisher(1));
  ASSERT_NO_FATAL_FAILURE(Publish("a", "first"));
  UseAssignment(kEagerAssignment);
  HoldingHandler holding;
  Member old_member = JoinHolding(holding);
  ASSERT_NE(old_member.consumer, nullptr);
  ASSERT_TRUE(holding.WaitForSeen(1));

  UseAssignment(kCooperativeAssignment);
  constexpr std::string_view kRefused = "INCONSISTENT_GROUP_PROTOCOL";
  {
    // A rollback stops a new member that was refused and never assigned anything: its Run returns,
    // a session timeout after the stop (it waits that long for a first assignment, librdkafka
    // #4312).
    RecordingHandler stopped;
    const Member rolled_back = JoinRecording(stopped);
    ASSERT_NE(rolled_back.consumer, nullptr);
    ASSERT_TRUE(klaxon::testing::PollUntil([&] { return Logged(kRefused) > 0; }, kWait));
  }
  RecordingHandler recorded;
  const int refused_before = Logged(kRefused);
  const Member new_member = JoinRecording(recorded);
  ASSERT_NE(new_member.consumer, nullptr);
  ASSERT_TRUE(klaxon::testing::PollUntil([&] { return Logged(kRefused) > refused_before; }, kWait));
  EXPECT_TRUE(recorded.Seen().empty());
  EXPECT_TRUE(holding.given_up().empty());

  old_member.running.request_stop();
  old_member.running.join();
  const absl::Time left = absl::Now();
  EXPECT_TRUE(recorded.WaitFor([](const auto& seen) { return Contains(seen, "first"); }));
  std::cout << "the cooperative member read the held message " << absl::Now() - left
            << " after the eager one left\n";
  EXPECT_EQ(recorded.Seen().size(), 1u);
  EXPECT_EQ(holding.seen().size(), 1u);
}

}  // namespace
}  // namespace klaxon::kafka
