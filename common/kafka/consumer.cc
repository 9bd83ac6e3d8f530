#include "common/kafka/consumer.h"

#include <array>
#include <chrono>
#include <condition_variable>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace klaxon::kafka {
namespace {

// How long one consumer poll blocks: the loop's latency in noticing a stop request.
constexpr int kPollIntervalMs = 100;

// The properties the at-least-once guarantee rests on; options.properties may not override them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kFixedProperties{{
    {"enable.auto.commit", "true"},
    {"enable.auto.offset.store", "false"},
}};

absl::StatusOr<std::map<std::string, std::string>> ConsumerProperties(
    const ConsumerOptions& options) {
  std::map<std::string, std::string> properties = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.client_id},
      {"auto.offset.reset", "earliest"},
  };
  if (options.on_lag) {
    properties["statistics.interval.ms"] = std::to_string(ToTimeoutMs(options.lag_interval));
  }
  for (const auto& [name, value] : options.properties) properties[name] = value;
  for (const auto& [name, value] : kFixedProperties) {
    const auto given = options.properties.find(std::string(name));
    if (given != options.properties.end() && given->second != value) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka property ", std::string(name), " must stay ", std::string(value), " for KafkaConsumer"));
    }
    properties[std::string(name)] = std::string(value);
  }
  return properties;
}

std::string Where(const messaging::InboundMessage& message) {
  return absl::StrCat(message.topic, " [", message.partition, "] @", message.offset);
}

// Sleeps for `delay` unless `stop` fires first; false when it did.
bool SleepUnlessStopped(absl::Duration delay, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, absl::ToChronoNanoseconds(delay), [] { return false; });
  return !stop.stop_requested();
}

messaging::InboundMessage ToInbound(const rd_kafka_message_t& message) {
  messaging::InboundMessage inbound;
  inbound.topic = rd_kafka_topic_name(message.rkt);
  inbound.partition = message.partition;
  inbound.offset = message.offset;
  if (message.key != nullptr) inbound.key.assign(static_cast<const char*>(message.key), message.key_len);
  if (message.payload != nullptr) {
    inbound.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  return inbound;
}

}  // namespace

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

absl::StatusOr<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(ConsumerOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  if (options.group_id.empty()) return absl::InvalidArgumentError("no consumer group given");
  if (options.topics.empty()) return absl::InvalidArgumentError("no topics to consume given");
  if (!options.log) options.log = StderrLog();
  absl::StatusOr<std::map<std::string, std::string>> properties = ConsumerProperties(options);
  if (!properties.ok()) return properties.status();
  absl::StatusOr<ConfPtr> conf = MakeConf(*properties);
  if (!conf.ok()) return conf.status();

  // The callbacks reach the consumer through the configuration's opaque, so the object must exist
  // before its client; a private constructor keeps it from being used half built.
  auto consumer = absl::WrapUnique(new KafkaConsumer(std::move(options)));
  InstallClientEvents(conf->get(), consumer.get());
  if (consumer->options_.on_lag) rd_kafka_conf_set_stats_cb(conf->get(), &OnStatistics);
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!client.ok()) return client.status();
  consumer->client_ = *std::move(client);
  // The client's own queue is not forwarded to the consumer's, so its errors and statistics are
  // served while Run() is busy with one message, for example during a retry backoff.
  consumer->events_thread_ = std::jthread([client = consumer->client_.get()](std::stop_token stop) {
    while (!stop.stop_requested()) rd_kafka_poll(client, kPollIntervalMs);
  });

  const std::vector<std::string>& topics = consumer->options_.topics;
  PartitionListPtr subscription(
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t error = rd_kafka_subscribe(consumer->client_.get(), subscription.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(error, "subscribe");
  }
  return consumer;
}

KafkaConsumer::KafkaConsumer(ConsumerOptions options) : options_(std::move(options)) {}

KafkaConsumer::~KafkaConsumer() {
  if (client_ != nullptr) Close();
}

absl::Status KafkaConsumer::Run(messaging::MessageHandler& handler, std::stop_token stop) {
  if (closed_) return absl::FailedPreconditionError("KafkaConsumer::Run after it returned");
  absl::Status result = absl::OkStatus();
  while (!stop.stop_requested()) {
    {
      std::lock_guard lock(mutex_);
      result = fatal_error_;
    }
    if (!result.ok()) break;
    MessagePtr message(rd_kafka_consumer_poll(client_.get(), kPollIntervalMs));
    if (message == nullptr) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Consumer errors (a broker down, a topic not created yet) are retried by librdkafka;
      // they are worth a log line, not the end of the loop.
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        options_.log("warn", "kafka_consume_error",
                     absl::StrCat(rd_kafka_err2name(message->err), ": ",
                                  rd_kafka_message_errstr(message.get())));
      }
      continue;
    }
    const messaging::InboundMessage inbound = ToInbound(*message);
    const absl::Status status = HandleWithRetry(handler, inbound, stop);
    if (IsRetryable(status)) break;  // stopped mid-retry: leave it for the next owner
    if (!status.ok()) {
      options_.log("error", "kafka_message_skipped",
                   absl::StrCat(Where(inbound), ": ", status.ToString()));
    }
    StoreOffset(inbound);
  }
  Close();
  return result;
}

absl::Status KafkaConsumer::HandleWithRetry(messaging::MessageHandler& handler,
                                            const messaging::InboundMessage& message,
                                            std::stop_token stop) {
  for (int retry = 0;; ++retry) {
    absl::Status status = handler.Handle(message);
    if (!IsRetryable(status)) return status;
    const absl::Duration delay = BackoffDelay(options_.retry_backoff, retry);
    options_.log("warn", "kafka_handler_retry",
                 absl::StrCat(Where(message), ": ", status.ToString(), "; retry ", retry + 1,
                              " in ", absl::FormatDuration(delay)));
    if (!SleepUnlessStopped(delay, stop)) return status;
  }
}

void KafkaConsumer::StoreOffset(const messaging::InboundMessage& message) {
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  // The stored offset is the next one to read, as Kafka's committed offsets are.
  rd_kafka_topic_partition_list_add(offsets.get(), message.topic.c_str(), message.partition)
      ->offset = message.offset + 1;
  rd_kafka_resp_err_t error = rd_kafka_offsets_store(client_.get(), offsets.get());
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) error = offsets->elems[0].err;
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Typically the partition was revoked while the handler ran; its new owner redelivers it.
    options_.log("warn", "kafka_offset_store_failed",
                 absl::StrCat(Where(message), ": ", rd_kafka_err2str(error)));
  }
}

void KafkaConsumer::Close() {
  if (closed_) return;
  closed_ = true;
  // Commits the stored offsets (enable.auto.commit) and leaves the group, so the partitions move
  // to another member at once instead of after session.timeout.ms.
  const rd_kafka_resp_err_t error = rd_kafka_consumer_close(client_.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    options_.log("warn", "kafka_consumer_close_failed", rd_kafka_err2str(error));
  }
}

absl::StatusOr<int64_t> KafkaConsumer::HighWatermark(const std::string& topic, int32_t partition,
                                                     absl::Duration timeout) {
  int64_t low = 0;
  int64_t high = 0;
  const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
      client_.get(), topic.c_str(), partition, &low, &high, ToTimeoutMs(timeout));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(error, absl::StrCat("watermarks of ", topic, " [", partition, "]"));
  }
  return high;
}

absl::StatusOr<int32_t> KafkaConsumer::PartitionCount(const std::string& topic,
                                                      absl::Duration timeout) {
  return FetchPartitionCount(client_.get(), topic, timeout);
}

void KafkaConsumer::OnKafkaLog(std::string_view level, std::string_view detail) {
  options_.log(level, "kafka_consumer_log", detail);
}

int KafkaConsumer::OnStatistics(rd_kafka_t* /*client*/, char* json, size_t json_len,
                                void* opaque) {
  auto& consumer = static_cast<KafkaConsumer&>(*static_cast<ClientEvents*>(opaque));
  absl::StatusOr<std::vector<PartitionLag>> lags =
      ParseConsumerLag(std::string_view(json, json_len));
  if (lags.ok()) {
    consumer.options_.on_lag(*lags);
  } else {
    consumer.options_.log("warn", "kafka_statistics_unreadable", std::string(lags.status().message()));
  }
  return 0;  // librdkafka frees the JSON
}

void KafkaConsumer::OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                 const char* reason) {
  if (error != RD_KAFKA_RESP_ERR__FATAL) {
    options_.log("warn", "kafka_consumer_error",
                 absl::StrCat(rd_kafka_err2name(error), ": ", reason));
    return;
  }
  std::array<char, 512> detail{};
  const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(client, detail.data(), detail.size());
  absl::Status fatal = absl::InternalError(absl::StrCat(
      "fatal kafka consumer error ", rd_kafka_err2name(cause), ": ", detail.data()));
  options_.log("error", "kafka_consumer_fatal", std::string(fatal.message()));
  std::lock_guard lock(mutex_);
  if (fatal_error_.ok()) fatal_error_ = std::move(fatal);
}

}  // namespace klaxon::kafka
