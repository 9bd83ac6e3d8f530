#pragma once
// Pieces every librdkafka client in common/kafka shares: owning handles for librdkafka's C
// objects, the mapping of librdkafka error codes onto absl::Status, building a configuration from
// a property map, and the log callback through which the clients report what they see. Services
// include this header only for LogFn; the rest is for the adapters in this directory.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::kafka {

// Receives the clients' own events. `level` is one of "debug", "info", "warn", "error" (the names
// of klaxon::log::Level, so main.cc adapts it to the service's Logger in one line). `detail` never
// holds message keys or values. Called from librdkafka's threads as well as the caller's, so it
// must be thread-safe.
using LogFn =
    std::function<void(std::string_view level, std::string_view event, std::string_view detail)>;

// A LogFn writing one line per event to stderr, for tools and tests that have no Logger.
LogFn StderrLog();

// True for the codes after which trying again may succeed (see STYLE.md).
bool IsRetryable(const absl::Status& status);

// Maps a librdkafka error onto the absl code that tells the caller whether a retry can help.
// `context` says what was being done; the message is "<context>: <librdkafka's description>".
absl::Status KafkaErrorToStatus(rd_kafka_resp_err_t error, std::string_view context);

// Milliseconds for librdkafka's int timeouts, saturating instead of overflowing.
int ToTimeoutMs(absl::Duration duration);

struct KafkaDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
  void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
  void operator()(rd_kafka_DeleteTopic_t* topic) const { rd_kafka_DeleteTopic_destroy(topic); }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, KafkaDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, KafkaDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, KafkaDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, KafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, KafkaDeleter>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, KafkaDeleter>;
using DeleteTopicPtr = std::unique_ptr<rd_kafka_DeleteTopic_t, KafkaDeleter>;

// A property one client's guarantees rest on, and the value it must keep.
struct FixedProperty {
  std::string_view name;
  std::string_view value;
};

// Sets each of `fixed` in `properties`; kInvalidArgument, naming the property and `client`, when
// the caller's `given` properties ask for another value.
absl::Status PinProperties(std::span<const FixedProperty> fixed,
                           const std::map<std::string, std::string>& given, std::string_view client,
                           std::map<std::string, std::string>& properties);

// A configuration holding `properties` in order; kInvalidArgument names the property librdkafka
// rejected.
absl::StatusOr<ConfPtr> MakeConf(const std::map<std::string, std::string>& properties);

// Creates a client of `type` from `conf`; takes ownership of the configuration in every case.
absl::StatusOr<KafkaPtr> MakeClient(rd_kafka_type_t type, ConfPtr conf);

// What librdkafka's client-wide callbacks reach through the client's opaque pointer, so one set of
// C callbacks serves every client type here. Called from librdkafka's threads.
class ClientEvents {
 public:
  // A line of librdkafka's own log.
  virtual void OnKafkaLog(std::string_view level, std::string_view detail) = 0;
  // An error librdkafka reports outside any one message (broker down, fatal idempotence error).
  virtual void OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason) = 0;

  virtual ~ClientEvents() = default;
};

// Makes `events` (which must outlive the client) the opaque of clients built from `conf` and
// routes librdkafka's log and error callbacks to it.
void InstallClientEvents(rd_kafka_conf_t* conf, ClientEvents* events);

// The ClientEvents behind a client created from a configuration passed to InstallClientEvents.
ClientEvents& EventsOf(const rd_kafka_t* client);

// Serves a client's main queue (its log, error and statistics callbacks, a producer's delivery
// reports) on a thread of its own until destroyed. Idle, the thread sleeps in one poll of a second
// rather than waking ten times a second (each of an idle voice-worker's ten clients woke so);
// destroying the poller cancels that poll (rd_kafka_queue_yield), so it still stops at once.
class MainQueuePoller {
 public:
  // `client` is borrowed and must outlive the poller.
  explicit MainQueuePoller(rd_kafka_t* client);
  ~MainQueuePoller();
  MainQueuePoller(const MainQueuePoller&) = delete;
  MainQueuePoller& operator=(const MainQueuePoller&) = delete;

 private:
  const QueuePtr queue_;
  std::jthread thread_;  // last: stopped and joined while queue_ is still there
};

// Number of partitions of `topic`, from the cluster's metadata.
absl::StatusOr<int32_t> FetchPartitionCount(rd_kafka_t* client, const std::string& topic,
                                            absl::Duration timeout);

}  // namespace klaxon::kafka
