#include "common/kafka/consumer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace klaxon::kafka {
namespace {

// How long one consumer poll blocks: the loop's latency in noticing a stop request.
constexpr int kConsumerPollMs = 100;
// How long Run() waits for room before it pauses its partitions and polls on while full, so
// that a rebalance is served within about this long even when every message in flight is held
// for minutes (a retry tier's). Short waits for room (a busy request consumer) pause nothing.
// Paused, it resumes only once half of max_in_flight is free: a pause drops what librdkafka had
// fetched ahead, so resuming for one message and pausing again would fetch it all again.
constexpr absl::Duration kFullBeforePause = absl::Seconds(1);

// The properties the at-least-once guarantee rests on; options.properties may not override them.
constexpr std::array<FixedProperty, 2> kAtLeastOnceProperties{{
    {"enable.auto.commit", "true"},
    {"enable.auto.offset.store", "false"},
}};

absl::StatusOr<std::map<std::string, std::string>> ConsumerProperties(
    const ConsumerOptions& options) {
  std::map<std::string, std::string> properties = {
      {"group.id", options.group_id},
      {"auto.offset.reset", "earliest"},
      {"session.timeout.ms", std::to_string(ToTimeoutMs(options.session_timeout))},
      // Three heartbeats per session, as Kafka advises, so one late heartbeat costs nothing.
      {"heartbeat.interval.ms", std::to_string(ToTimeoutMs(options.session_timeout / 3))},
  };
  if (options.on_lag) {
    properties["statistics.interval.ms"] = std::to_string(ToTimeoutMs(options.lag_interval));
  }
  for (const auto& [name, value] : options.properties) properties[name] = value;
  absl::Status pinned =
      PinProperties(kAtLeastOnceProperties, options.properties, "KafkaConsumer", properties);
  if (!pinned.ok()) return pinned;
  return properties;
}

std::string Where(const messaging::InboundMessage& message) {
  return absl::StrCat(message.topic, " [", message.partition, "] @", message.offset);
}

TopicPartition WhereOf(const messaging::InboundMessage& message) {
  return {.topic = message.topic, .partition = message.partition};
}

messaging::InboundMessage ToInbound(const rd_kafka_message_t& message) {
  messaging::InboundMessage inbound;
  inbound.topic = rd_kafka_topic_name(message.rkt);
  inbound.partition = message.partition;
  inbound.offset = message.offset;
  if (message.key != nullptr)
    inbound.key.assign(static_cast<const char*>(message.key), message.key_len);
  if (message.payload != nullptr) {
    inbound.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  return inbound;
}

}  // namespace

bool IsCooperativeAssignment(std::string_view strategies) {
  for (absl::string_view strategy :
       absl::StrSplit(absl::string_view(strategies.data(), strategies.size()), ',')) {
    if (absl::StripAsciiWhitespace(strategy) == "cooperative-sticky") return true;
  }
  return false;
}

absl::StatusOr<std::vector<PartitionLag>> ParseConsumerLag(std::string_view json) {
  const nlohmann::json stats = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!stats.is_object()) {
    return absl::InvalidArgumentError("kafka statistics are not a JSON object");
  }
  std::vector<PartitionLag> lags;
  const auto topics = stats.find("topics");
  if (topics == stats.end() || !topics->is_object()) return lags;
  for (const auto& [topic, entry] : topics->items()) {
    const auto partitions = entry.find("partitions");
    if (partitions == entry.end() || !partitions->is_object()) continue;
    for (const auto& partition : *partitions) {
      const auto number = partition.find("partition");
      const auto lag = partition.find("consumer_lag");
      if (number == partition.end() || !number->is_number_integer() || lag == partition.end() ||
          !lag->is_number_integer()) {
        continue;
      }
      const int32_t partition_number = number->get<int32_t>();
      const int64_t partition_lag = lag->get<int64_t>();
      // Partition -1 is librdkafka's internal unassigned-messages partition; lag -1 is unknown.
      if (partition_number < 0 || partition_lag < 0) continue;
      lags.push_back({.topic = topic, .partition = partition_number, .lag = partition_lag});
    }
  }
  return lags;
}

absl::Duration ReadSessionTimeout(config::Reader& reader) {
  return reader.Duration("KLAXON_KAFKA_SESSION_TIMEOUT", kDefaultSessionTimeout, absl::Seconds(6),
                         absl::Minutes(5));
}

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(ConsumerOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  if (options.group_id.empty()) return absl::InvalidArgumentError("no consumer group given");
  if (options.topics.empty()) return absl::InvalidArgumentError("no topics to consume given");
  if (options.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  if (!options.log) options.log = StderrLog();
  absl::StatusOr<std::map<std::string, std::string>> properties = ConsumerProperties(options);
  if (!properties.ok()) return properties.status();
  absl::StatusOr<ConfPtr> conf =
      MakeClientConf(options.brokers, options.security, options.client_id, *properties);
  if (!conf.ok()) return conf.status();

  // The callbacks reach the consumer through the configuration's opaque, so the object must exist
  // before its client; a private constructor keeps it from being used half built.
  auto consumer = absl::WrapUnique(new KafkaConsumer(std::move(options)));
  if (auto strategy = properties->find("partition.assignment.strategy");
      strategy != properties->end()) {
    consumer->cooperative_ = IsCooperativeAssignment(strategy->second);
  }
  InstallClientEvents(conf->get(), consumer.get());
  if (consumer->options_.on_lag) rd_kafka_conf_set_stats_cb(conf->get(), &OnStatistics);
  rd_kafka_conf_set_rebalance_cb(conf->get(), &OnRebalance);
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!client.ok()) return client.status();
  consumer->client_ = *std::move(client);
  // The client's own queue is not forwarded to the consumer's, so its errors and statistics are
  // served while Run() is busy with one message, for example during a retry backoff.
  consumer->events_ = std::make_unique<MainQueuePoller>(consumer->client_.get());

  const std::vector<std::string>& topics = consumer->options_.topics;
  PartitionListPtr subscription(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t error = rd_kafka_subscribe(consumer->client_.get(), subscription.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(error, "subscribe");
  }
  consumer->subscribed_ = true;
  return consumer;
}

KafkaConsumer::KafkaConsumer(ConsumerOptions options) : options_(std::move(options)) {}

KafkaConsumer::~KafkaConsumer() {
  if (client_ != nullptr) Close();
}

absl::Status KafkaConsumer::Run(messaging::AsyncMessageHandler& handler, std::stop_token stop) {
  if (closed_) return absl::FailedPreconditionError("KafkaConsumer::Run after it returned");
  {
    std::lock_guard lock(mutex_);
    dispatching_ = true;
  }
  std::jthread dispatcher([this, &handler] { Dispatch(handler); });
  absl::Status result = absl::OkStatus();
  while (true) {
    const Room room = WaitForRoom(stop);
    if (room == Room::kStopped) break;
    {
      std::lock_guard lock(mutex_);
      result = fatal_error_;
    }
    if (!result.ok()) break;
    // Full for a while: the partitions pause and the poll goes on, serving rebalances and the
    // group's liveness without taking messages; they resume once there is room.
    Pause(room == Room::kFull);
    MessagePtr message(rd_kafka_consumer_poll(client_.get(), paused_ ? 0 : kConsumerPollMs));
    if (message == nullptr) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LogConsumeError(*message);
      continue;
    }
    messaging::InboundMessage received = ToInbound(*message);
    std::lock_guard lock(mutex_);
    const TopicPartition where = WhereOf(received);
    received.given_up = assigned_[where].get_token();
    auto inbound = std::make_shared<const messaging::InboundMessage>(std::move(received));
    offsets_.Begin(where, inbound->offset);
    ++in_flight_;
    Attempt attempt{.message = inbound};
    if (std::optional<Attempt> now = sequencer_.Submit(inbound->key, std::move(attempt))) {
      ready_.push_back(*std::move(now));
      work_.notify_one();
    }
  }
  {
    // Retrying messages give up; started ones complete and store their offsets.
    std::lock_guard lock(mutex_);
    for (auto& [where, source] : assigned_) source.request_stop();
    work_.notify_one();
  }
  WaitUntilIdle();
  {
    std::lock_guard lock(mutex_);
    dispatching_ = false;
    work_.notify_one();
  }
  dispatcher.join();
  Close();
  return result;
}

KafkaConsumer::Room KafkaConsumer::WaitForRoom(std::stop_token stop) {
  const auto full_until =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(kFullBeforePause);
  // Paused, room is half of max_in_flight free; otherwise one place.
  const int most_in_flight = paused_ ? options_.max_in_flight / 2 : options_.max_in_flight - 1;
  std::unique_lock lock(mutex_);
  // progress_ is a plain condition variable, so the stop request is noticed within a poll
  // interval rather than at once; stop only ever waits for started messages anyway.
  while (!stop.stop_requested() && in_flight_ > most_in_flight) {
    if (std::chrono::steady_clock::now() >= full_until) return Room::kFull;
    progress_.wait_for(lock, std::chrono::milliseconds(kConsumerPollMs));
  }
  return stop.stop_requested() ? Room::kStopped : Room::kFree;
}

void KafkaConsumer::Pause(bool pause) {
  if (pause == paused_) return;
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  rd_kafka_resp_err_t error = rd_kafka_assignment(client_.get(), &assignment);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    PartitionListPtr owned(assignment);
    error = pause ? rd_kafka_pause_partitions(client_.get(), owned.get())
                  : rd_kafka_resume_partitions(client_.get(), owned.get());
  }
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Paused or not, the loop stays correct: a message that comes while full is taken anyway.
    options_.log("warn", pause ? "kafka_pause_failed" : "kafka_resume_failed",
                 rd_kafka_err2str(error));
    return;
  }
  paused_ = pause;
  // Debug: a retry tier full of holds pauses and resumes every few seconds as a matter of course.
  options_.log("debug", pause ? "kafka_consumer_paused" : "kafka_consumer_resumed",
               pause ? "every message it may have in flight is taken; fetching waits until half "
                       "of them are done"
                     : "half of the messages it may have in flight are done; fetching again");
}

void KafkaConsumer::WaitUntilIdle() {
  std::unique_lock lock(mutex_);
  progress_.wait(lock, [this] { return in_flight_ == 0; });
}

void KafkaConsumer::Dispatch(messaging::AsyncMessageHandler& handler) {
  std::unique_lock lock(mutex_);
  while (true) {
    // Completions first: they free keys and room in flight.
    if (!completed_.empty()) {
      auto [attempt, status] = std::move(completed_.front());
      completed_.pop_front();
      lock.unlock();
      Conclude(std::move(attempt), status);
      lock.lock();
      continue;
    }
    TakeDueRetries();
    if (!ready_.empty()) {
      Attempt attempt = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      Start(handler, std::move(attempt));
      lock.lock();
      continue;
    }
    if (!dispatching_) return;
    if (retries_.empty()) {
      work_.wait(lock);
    } else {
      work_.wait_until(lock, retries_.begin()->first);
    }
  }
}

void KafkaConsumer::TakeDueRetries() {
  const SteadyTime now = std::chrono::steady_clock::now();
  // Every entry is looked at, not only the due ones, so a revocation or a stop ends a long
  // backoff at once; entries exist only while a dependency is down, and at most max_in_flight.
  for (auto retry = retries_.begin(); retry != retries_.end();) {
    if (retry->first <= now || retry->second.message->given_up.stop_requested()) {
      ready_.push_back(std::move(retry->second));
      retry = retries_.erase(retry);
    } else {
      ++retry;
    }
  }
}

void KafkaConsumer::Start(messaging::AsyncMessageHandler& handler, Attempt attempt) {
  if (attempt.message->given_up.stop_requested()) {
    Conclude(std::move(attempt), absl::UnavailableError("partition revoked or stopping"));
    return;
  }
  // The completion owns the attempt, and with it the message the handler reads until then.
  const messaging::InboundMessage& message = *attempt.message;
  handler.Handle(message, [this, attempt = std::move(attempt)](absl::Status status) mutable {
    Complete(std::move(attempt), std::move(status));
  });
}

void KafkaConsumer::Complete(Attempt attempt, absl::Status status) {
  std::lock_guard lock(mutex_);
  completed_.emplace_back(std::move(attempt), std::move(status));
  // Notified under the lock: once the last completion is concluded Run() may return and the
  // consumer be destroyed, so nothing of it may be touched after the lock is released.
  work_.notify_one();
}

void KafkaConsumer::Conclude(Attempt attempt, const absl::Status& status) {
  const messaging::InboundMessage& message = *attempt.message;
  if (IsRetryable(status) && !attempt.message->given_up.stop_requested()) {
    const absl::Duration delay = BackoffDelay(options_.retry_backoff, attempt.retry);
    options_.log("warn", "kafka_handler_retry",
                 absl::StrCat(Where(message), ": ", status.ToString(), "; retry ",
                              attempt.retry + 1, " in ", absl::FormatDuration(delay)));
    ++attempt.retry;
    std::lock_guard lock(mutex_);
    retries_.emplace(std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(delay),
                     std::move(attempt));
    return;
  }
  const TopicPartition where = WhereOf(message);
  std::optional<int64_t> store;
  {
    std::lock_guard lock(mutex_);
    if (IsRetryable(status)) {
      // Stopped or revoked mid-retry: left unstored for the partition's next owner.
      offsets_.Abandon(where, message.offset);
    } else {
      store = offsets_.Finish(where, message.offset);
      // Stored under the lock, so a revocation waiting for this partition sees it done only
      // once its offset is in librdkafka's store.
      if (store.has_value()) StoreOffset(where, *store);
    }
    --in_flight_;
    if (std::optional<Attempt> next = sequencer_.Done(message.key)) {
      ready_.push_back(*std::move(next));
    }
    progress_.notify_all();
  }
  if (store.has_value() && options_.on_offset_stored) {
    options_.on_offset_stored(where.topic, where.partition, *store);
  }
  if (!status.ok() && !IsRetryable(status)) {
    options_.log("error", "kafka_message_skipped",
                 absl::StrCat(Where(message), ": ", status.ToString()));
  }
}

void KafkaConsumer::StoreOffset(const TopicPartition& where, int64_t next_offset) {
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), where.topic.c_str(), where.partition)->offset =
      next_offset;
  rd_kafka_resp_err_t error = rd_kafka_offsets_store(client_.get(), offsets.get());
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) error = offsets->elems[0].err;
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    options_.log("warn", "kafka_offset_store_failed",
                 absl::StrCat(where.topic, " [", where.partition, "] @", next_offset, ": ",
                              rd_kafka_err2str(error)));
  }
}

void KafkaConsumer::OnRebalance(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto& consumer = static_cast<KafkaConsumer&>(*static_cast<ClientEvents*>(opaque));
  const bool cooperative = consumer.cooperative_;
  rd_kafka_resp_err_t failed = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    consumer.assigned_once_ = true;
    {
      std::lock_guard lock(consumer.mutex_);
      for (int i = 0; i < partitions->cnt; ++i) {
        const rd_kafka_topic_partition_t& p = partitions->elems[i];
        consumer.assigned_[{.topic = p.topic, .partition = p.partition}] = std::stop_source();
      }
    }
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(client, partitions)) {
        failed = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
      }
    } else {
      failed = rd_kafka_assign(client, partitions);
    }
    // A partition gained while the consumer is paused (full) waits with the others.
    if (failed == RD_KAFKA_RESP_ERR_NO_ERROR && consumer.paused_) {
      failed = rd_kafka_pause_partitions(client, partitions);
    }
  } else {
    // Revoked or lost: either way nothing of these partitions may be stored once they are gone.
    consumer.Revoke(*partitions);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(client, partitions)) {
        failed = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
      }
    } else {
      failed = rd_kafka_assign(client, nullptr);
    }
    // A pause outlives the assignment in librdkafka: lifted as they go, so the partitions are
    // fetched if they come back. Only paused ones are resumed: librdkafka 2.0 rewinds a fetching
    // partition that is resumed (fixed in 2.4), which would hand its messages over again.
    if (failed == RD_KAFKA_RESP_ERR_NO_ERROR && consumer.paused_) {
      failed = rd_kafka_resume_partitions(client, partitions);
    }
  }
  if (failed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    consumer.options_.log("warn", "kafka_rebalance_failed",
                          absl::StrCat(rd_kafka_err2name(error), ": ", rd_kafka_err2str(failed)));
  }
}

void KafkaConsumer::Revoke(const rd_kafka_topic_partition_list_t& partitions) {
  std::vector<TopicPartition> revoked;
  std::unique_lock lock(mutex_);
  for (int i = 0; i < partitions.cnt; ++i) {
    const rd_kafka_topic_partition_t& p = partitions.elems[i];
    TopicPartition where{.topic = p.topic, .partition = p.partition};
    if (auto found = assigned_.find(where); found != assigned_.end()) found->second.request_stop();
    revoked.push_back(std::move(where));
  }
  // Started messages complete (a Twilio request in progress is not cut off); the others of
  // these partitions give up at once, retries waiting for their timer too. Their new owner
  // starts from what was stored meanwhile.
  work_.notify_one();
  progress_.wait(lock, [&] {
    return std::all_of(revoked.begin(), revoked.end(),
                       [&](const TopicPartition& where) { return offsets_.Running(where) == 0; });
  });
  for (const TopicPartition& where : revoked) {
    offsets_.Forget(where);
    assigned_.erase(where);
  }
}

void KafkaConsumer::LogConsumeError(const rd_kafka_message_t& message) {
  // Consumer errors (a broker down, a topic not created yet, a join refused) are retried by
  // librdkafka; they are worth a log line, not the end of the loop.
  if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
  options_.log(
      "warn", "kafka_consume_error",
      absl::StrCat(rd_kafka_err2name(message.err), ": ", rd_kafka_message_errstr(&message)));
}

void KafkaConsumer::AwaitFirstAssignment() {
  // A consumer that never subscribed has no group to join, and after a fatal error librdkafka
  // calls no rebalance callback.
  if (!cooperative_ || !subscribed_) return;
  {
    std::lock_guard lock(mutex_);
    if (!fatal_error_.ok()) return;
  }
  // Not only once the group chose its assignor (rd_kafka_rebalance_protocol() no longer NONE): a
  // JoinGroup in flight may be answered while the consumer closes, and the close then never
  // reaches the assignment.
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.session_timeout);
  while (!assigned_once_) {
    if (std::chrono::steady_clock::now() >= deadline) {
      options_.log("warn", "kafka_close_before_first_assignment",
                   absl::StrCat("group ", options_.group_id, " gave this consumer no assignment ",
                                absl::FormatDuration(options_.session_timeout),
                                " into its stop (is Kafka reachable? is the group refusing it?); "
                                "closing without one. librdkafka 2.0 aborts the process if the "
                                "group answers its join meanwhile (librdkafka #4312)"));
      return;
    }
    // Serves the rebalance callback. A message that comes with the assignment is let go: its
    // offset is never stored, so the partition's next owner reads it.
    MessagePtr let_go(rd_kafka_consumer_poll(client_.get(), kConsumerPollMs));
    if (let_go != nullptr && let_go->err != RD_KAFKA_RESP_ERR_NO_ERROR) LogConsumeError(*let_go);
  }
}

void KafkaConsumer::Close() {
  if (closed_) return;
  closed_ = true;
  AwaitFirstAssignment();
  // Commits the stored offsets (enable.auto.commit) and leaves the group, so the partitions move
  // to another member at once instead of after session.timeout.ms.
  const rd_kafka_resp_err_t error = rd_kafka_consumer_close(client_.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    options_.log("warn", "kafka_consumer_close_failed", rd_kafka_err2str(error));
  }
}

void KafkaConsumer::OnKafkaLog(std::string_view level, std::string_view detail) {
  options_.log(level, "kafka_consumer_log", detail);
}

int KafkaConsumer::OnStatistics(rd_kafka_t* /*client*/, char* json, size_t json_len, void* opaque) {
  auto& consumer = static_cast<KafkaConsumer&>(*static_cast<ClientEvents*>(opaque));
  absl::StatusOr<std::vector<PartitionLag>> lags =
      ParseConsumerLag(std::string_view(json, json_len));
  if (lags.ok()) {
    consumer.options_.on_lag(*lags);
  } else {
    consumer.options_.log("warn", "kafka_statistics_unreadable",
                          std::string(lags.status().message()));
  }
  return 0;  // librdkafka frees the JSON
}

void KafkaConsumer::OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                 const char* reason) {
  ClientError classified =
      ClassifyClientError(client, error, reason, options_.brokers, options_.security, "consumer");
  if (classified.fatal.ok()) {
    options_.log(classified.level, "kafka_consumer_error", classified.message);
    return;
  }
  options_.log("error", "kafka_consumer_fatal", std::string(classified.fatal.message()));
  std::lock_guard lock(mutex_);
  if (fatal_error_.ok()) fatal_error_ = std::move(classified.fatal);
}

}  // namespace klaxon::kafka
