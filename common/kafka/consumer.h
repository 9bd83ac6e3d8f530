#pragma once
// KafkaConsumer: the group consumer loop the workers and audit run their message handler in. It
// gives Klaxon at-least-once processing: an offset is stored (and later auto-committed) only after
// the handler's result for that message and for every earlier message of its partition was OK,
// so a crash or a rebalance before that redelivers it.
//
// It runs a messaging::AsyncMessageHandler: Handle() starts a message and its completion reports
// the result later, from any thread. Up to ConsumerOptions::max_in_flight messages are in flight
// at once (started, waiting behind their key, or waiting to be retried), and none of them holds a
// thread: besides librdkafka's own, the consumer uses three whatever max_in_flight is (Run()'s
// caller polls, one thread dispatches, one serves librdkafka's events). Handle() is called from the
// dispatching thread, one message at a time; handlers that block run behind
// messaging::ThreadPoolHandler, which holds the threads they need. Messages with the same key are
// handled one after another in partition order (KeySequencer): the next starts once the one before
// it completed; each partition's stored offset never passes a message that has not finished
// (OffsetTracker). With max_in_flight 1 messages are handled one at a time, in order.
//
// Results (see messaging::MessageHandler):
//  - OK: the message is finished; its offset becomes storable.
//  - kUnavailable, kDeadlineExceeded, kResourceExhausted: a dependency is down; the same message is
//    handed to the handler again after a capped exponential backoff, until it succeeds, the stop
//    token fires or its partition is revoked (then it stays unstored and is redelivered). The
//    backoff is a timer on the dispatching thread; it holds the message's key and its place in
//    flight, not a thread and not the other keys. Retries of a message's own business outcome go
//    through delayed retry topics instead.
//  - anything else: the message or the handler is broken; it is logged with topic, partition,
//    offset and status, it counts as finished, and consumption continues.
//
// Rebalances: when partitions are revoked, their retrying messages give up, messages of theirs
// still waiting behind a key are not handed to the handler, their started messages are told
// (InboundMessage::given_up: a handler that only holds one until a time gives it back at once),
// and the consumer waits until none of theirs is started and not completed before letting them
// go; librdkafka then commits what was stored for them. So no completion of a revoked partition can
// land after its new owner started, and nothing is stored past an unfinished message. Stop works
// the same way for every partition: no new messages, retries give up, started messages complete,
// then the stored offsets are committed and the group is left. A cooperative consumer (the retry
// tiers') that was never assigned anything first waits for its group's first assignment, for at
// most a session timeout (AwaitFirstAssignment below).
//
// With ConsumerOptions::on_lag set, it also reports how far the group is behind on each partition
// it consumes, from librdkafka's statistics. Those (and librdkafka's errors) are served by a
// thread of their own, so the report keeps coming while messages are held in retry backoff,
// which is when the lag grows.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/kafka/backoff.h"
#include "common/kafka/client.h"
#include "common/kafka/key_sequencer.h"
#include "common/kafka/offset_tracker.h"
#include "common/kafka/security.h"
#include "common/messaging/message.h"

namespace klaxon::kafka {

// How many messages of one partition the group has not committed yet: the partition's high
// watermark minus the group's committed offset.
struct PartitionLag {
  std::string topic{};
  int32_t partition = 0;
  int64_t lag = 0;

  friend bool operator==(const PartitionLag&, const PartitionLag&) = default;
};

// Receives the lag of every partition whose lag is known, once per statistics interval. A
// partition missing from a report is no longer known (revoked, or not committed to yet). Called
// from the consumer's event thread.
using LagFn = std::function<void(const std::vector<PartitionLag>& lags)>;

// Receives a partition's next offset each time it becomes storable: every message before it has
// finished. Called from the consumer's dispatching thread, so it must not block.
using OffsetStoredFn =
    std::function<void(const std::string& topic, int32_t partition, int64_t next_offset)>;

// The partitions' consumer_lag from a librdkafka statistics document (STATISTICS.md). Skips the
// internal partition -1 and partitions whose lag is unknown (-1). kInvalidArgument when `json` is
// not a JSON object.
absl::StatusOr<std::vector<PartitionLag>> ParseConsumerLag(std::string_view json);

// Whether a group whose partition.assignment.strategy is `strategies` (librdkafka's
// comma-separated list) rebalances incrementally (KIP-429). librdkafka refuses a list that mixes
// cooperative and eager assignors, so one cooperative assignor decides it. The consumer decides
// this from its configuration instead of asking rd_kafka_rebalance_protocol() in its rebalance
// callback: that call waits on the group's thread and can block forever in the callback that
// rd_kafka_consumer_close() runs (librdkafka #4041), which hung workers stopped while joining.
bool IsCooperativeAssignment(std::string_view strategies);

// A crashed consumer's partitions move to another member after this (ConsumerOptions). A broker
// refuses a session shorter than its group.min.session.timeout.ms (6 s unless the cluster sets
// more). The consumer heartbeats three times per session.
inline constexpr absl::Duration kDefaultSessionTimeout = absl::Seconds(10);

// KLAXON_KAFKA_SESSION_TIMEOUT for the services that consume (the workers, audit): 6 s to 5 min,
// kDefaultSessionTimeout when unset; a wrong value is recorded in `reader`.
absl::Duration ReadSessionTimeout(config::Reader& reader);

struct ConsumerOptions {
  std::string brokers = {};              // host:port[,host:port]
  Security security = {};                // TLS and SASL (common/kafka/security.h)
  std::string group_id = {};             // one consumer group per service and topic set
  std::vector<std::string> topics = {};  // full names, prefix included (see PrefixedTopic)
  std::string client_id = "klaxon";
  BackoffPolicy retry_backoff = {};
  // How long the group waits for a member that stopped heartbeating (it crashed, or its host
  // went away) before it gives that member's partitions to another: after a crash, the messages
  // on them wait this long (librdkafka's own default is 45 s). KLAXON_KAFKA_SESSION_TIMEOUT.
  absl::Duration session_timeout = kDefaultSessionTimeout;
  // More librdkafka properties, e.g. {"fetch.wait.max.ms", "100"}. They may not change
  // enable.auto.commit or enable.auto.offset.store, which the at-least-once guarantee relies on.
  // auto.offset.reset defaults to earliest so a new group misses nothing already published.
  std::map<std::string, std::string> properties = {};
  LogFn log = StderrLog();
  // Optional; when set, statistics are collected every lag_interval and their lag reported here.
  LagFn on_lag = nullptr;
  absl::Duration lag_interval = absl::Seconds(5);
  // Optional; told each offset stored for commit, i.e. how far every message has been handled.
  OffsetStoredFn on_offset_stored = nullptr;
  // Messages in flight at once (started, waiting behind their key or waiting to be retried); at
  // least 1. It costs no threads here (a ThreadPoolHandler has its own). A consumer full for a
  // second pauses its partitions and polls on, so rebalances are served while its messages are
  // held; it resumes where it paused once half of them completed.
  int max_in_flight = 1;
};

class KafkaConsumer final : private ClientEvents {
 public:
  // Creates the client and subscribes to options.topics. kInvalidArgument for missing brokers,
  // group or topics, or a property librdkafka rejects.
  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(ConsumerOptions options);

  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;
  // Leaves the group cleanly if Run() has not (a cooperative consumer first waits for its first
  // assignment, as Run() does when it stops).
  ~KafkaConsumer() override;

  // Consumes and hands each message to `handler` until `stop` is requested, then waits for the
  // messages in flight to complete, commits the stored offsets and leaves the group. Returns OK
  // after a requested stop, kInternal after a fatal consumer error, and kFailedPrecondition when
  // called again after it returned.
  absl::Status Run(messaging::AsyncMessageHandler& handler, std::stop_token stop);

  // ConsumerOptions::max_in_flight: how many threads a blocking handler needs to keep up.
  int max_in_flight() const { return options_.max_in_flight; }

 private:
  // One message on its way through the handler, and how often it was retried so far. Its
  // `given_up` fires when its partition is revoked or the consumer stops.
  struct Attempt {
    std::shared_ptr<const messaging::InboundMessage> message;
    int retry = 0;
  };
  using SteadyTime = std::chrono::steady_clock::time_point;

  explicit KafkaConsumer(ConsumerOptions options);

  // The dispatching thread: hands started and due messages to the handler and concludes the
  // completed ones, until Run() ends it once nothing is in flight.
  void Dispatch(messaging::AsyncMessageHandler& handler);
  // Calls the handler for `attempt`, or concludes it at once when it has to give up.
  void Start(messaging::AsyncMessageHandler& handler, Attempt attempt);
  // The handler's completion: queues the result for the dispatching thread. Any thread.
  void Complete(Attempt attempt, absl::Status status);
  // Schedules the retry of a retryable result, or records how the message ended and starts the
  // next message of its key. Dispatching thread, mutex_ not held.
  void Conclude(Attempt attempt, const absl::Status& status);
  // Moves the retries that are due, or whose message gives up, to ready_; mutex_ held.
  void TakeDueRetries();
  void StoreOffset(const TopicPartition& where, int64_t next_offset);
  enum class Room { kFree, kFull, kStopped };
  // Blocks until there is room (kFree: fewer than max_in_flight messages in flight, at most half
  // of it while paused), `stop` fires (kStopped), or kFullBeforePause passed without room (kFull).
  Room WaitForRoom(std::stop_token stop);
  // Pauses (or resumes) fetching on every assigned partition. Run()'s thread.
  void Pause(bool pause);
  void WaitUntilIdle();
  // librdkafka's rebalance_cb, and its revocation half.
  static void OnRebalance(rd_kafka_t* client, rd_kafka_resp_err_t error,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Revoke(const rd_kafka_topic_partition_list_t& partitions);
  // librdkafka 2.0 aborts the process when a cooperative consumer is destroyed after the JoinGroup
  // response that chose its group's assignor and before the SyncGroup response that gave it its
  // first assignment: the sticky assignor frees a state it has not made yet (librdkafka #4312,
  // fixed in 2.3; bookworm has 2.0.2). A worker stopped seconds after its start can be there, or
  // have its JoinGroup in flight, answered while it closes. So Close() first polls until that
  // assignment came (an empty one counts), for at most a session timeout: a consumer whose group
  // refuses it, whose Kafka is down or whose topics do not exist yet stops that much later. One
  // that never subscribed, or that met a fatal error, closes at once.
  void AwaitFirstAssignment();
  // Logs an error event that a consumer poll returned, but for the end of a partition.
  void LogConsumeError(const rd_kafka_message_t& message);
  void Close();
  void OnKafkaLog(std::string_view level, std::string_view detail) override;
  void OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason) override;
  // librdkafka's stats_cb; `opaque` is the consumer's ClientEvents.
  static int OnStatistics(rd_kafka_t* client, char* json, size_t json_len, void* opaque);
  const ConsumerOptions options_;
  std::mutex mutex_;
  std::condition_variable progress_;  // a message in flight ended
  std::condition_variable work_;      // something for the dispatching thread to do
  absl::Status fatal_error_;          // guarded by mutex_
  OffsetTracker offsets_;             // guarded by mutex_
  int in_flight_ = 0;                 // guarded by mutex_
  // Fired when the partition is revoked or the consumer stops; its messages give up retrying.
  std::map<TopicPartition, std::stop_source> assigned_;  // guarded by mutex_
  // The messages in flight, each in one place at a time (all guarded by mutex_): waiting behind
  // its key, ready to be handed to the handler, started (only its completion knows it),
  // completed and not concluded yet, or waiting for its retry.
  KeySequencer<Attempt> sequencer_;
  std::deque<Attempt> ready_;
  std::deque<std::pair<Attempt, absl::Status>> completed_;
  std::multimap<SteadyTime, Attempt> retries_;
  bool dispatching_ = false;  // guarded by mutex_; Run() clears it to end the dispatching thread
  bool closed_ = false;       // only touched by the thread that owns the consumer
  bool cooperative_ = false;  // set before the client exists (IsCooperativeAssignment)
  // Whether the group ever gave this consumer an assignment (its first may be empty). The thread
  // that polls, as paused_.
  bool assigned_once_ = false;
  bool subscribed_ = false;  // set by Create() once rd_kafka_subscribe succeeded
  // Whether the assignment is paused because the consumer is full. Run()'s thread, and the
  // rebalance callback its polls and its Close() serve.
  bool paused_ = false;
  KafkaPtr client_;
  // Serves the client's own queue (errors, statistics). Declared after client_ so it stops
  // before the client is destroyed.
  std::unique_ptr<MainQueuePoller> events_;
};

}  // namespace klaxon::kafka
