#include "common/kafka/client.h"

#include <array>
#include <cstdio>
#include <limits>
#include <stop_token>
#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::kafka {
namespace {

// How long the main queue's thread sleeps in one poll when nothing comes: it is woken at once by
// any event and by its own stop, so this only bounds a wait nothing shortens.
constexpr int kIdlePollMs = 1000;

// librdkafka's log levels are syslog's.
std::string_view SyslogLevelName(int level) {
  if (level <= 3) return "error";
  if (level == 4) return "warn";
  if (level <= 6) return "info";
  return "debug";
}

void LogCallback(const rd_kafka_t* client, int level, const char* facility, const char* line) {
  EventsOf(client).OnKafkaLog(SyslogLevelName(level), absl::StrCat(facility, ": ", line));
}

void ErrorCallback(rd_kafka_t* client, int error, const char* reason, void* opaque) {
  static_cast<ClientEvents*>(opaque)->OnKafkaError(client, static_cast<rd_kafka_resp_err_t>(error),
                                                   reason);
}

}  // namespace

LogFn StderrLog() {
  return [](std::string_view level, std::string_view event, std::string_view detail) {
    std::string line;
    line.append(level).append(" ").append(event).append(" ").append(detail).append("\n");
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

bool IsRetryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status);
}

absl::Status KafkaErrorToStatus(rd_kafka_resp_err_t error, std::string_view context) {
  const std::string message = absl::StrCat(std::string(context), ": ", rd_kafka_err2str(error));
  switch (error) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return absl::OkStatus();
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return absl::ResourceExhaustedError(message);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      // Klaxon creates its topics up front (klaxon-admin); a missing one is a deployment error.
      return absl::NotFoundError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(message);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::PermissionDeniedError(message);
    case RD_KAFKA_RESP_ERR__FATAL:
      return absl::InternalError(message);
    default:
      return absl::UnknownError(message);
  }
}

int ToTimeoutMs(absl::Duration duration) {
  if (duration <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(duration);
  if (ms >= std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  // A positive duration under a millisecond must still wait, not poll.
  return ms == 0 ? 1 : static_cast<int>(ms);
}

absl::Status PinProperties(std::span<const FixedProperty> fixed,
                           const std::map<std::string, std::string>& given, std::string_view client,
                           std::map<std::string, std::string>& properties) {
  for (const FixedProperty& property : fixed) {
    const auto asked = given.find(std::string(property.name));
    if (asked != given.end() && asked->second != property.value) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", std::string(property.name),
                                                     " must stay ", std::string(property.value),
                                                     " for ", std::string(client)));
    }
    properties[std::string(property.name)] = std::string(property.value);
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfPtr> MakeConf(const std::map<std::string, std::string>& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", name, ": ", error.data()));
    }
  }
  return conf;
}

absl::StatusOr<KafkaPtr> MakeClient(rd_kafka_type_t type, ConfPtr conf) {
  std::array<char, 512> error{};
  // rd_kafka_new takes the configuration only when it succeeds.
  KafkaPtr client(rd_kafka_new(type, conf.get(), error.data(), error.size()));
  if (client == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create kafka client: ", error.data()));
  }
  static_cast<void>(conf.release());
  return client;
}

MainQueuePoller::MainQueuePoller(rd_kafka_t* client)
    : queue_(rd_kafka_queue_get_main(client)), thread_([this, client](std::stop_token stop) {
        // A yield that comes between the check and the poll is kept by the queue: that poll
        // returns at once.
        const std::stop_callback wake(stop, [this] { rd_kafka_queue_yield(queue_.get()); });
        while (!stop.stop_requested()) rd_kafka_poll(client, kIdlePollMs);
      }) {}

MainQueuePoller::~MainQueuePoller() {
  thread_.request_stop();
  thread_.join();
}

void InstallClientEvents(rd_kafka_conf_t* conf, ClientEvents* events) {
  rd_kafka_conf_set_opaque(conf, events);
  rd_kafka_conf_set_log_cb(conf, &LogCallback);
  rd_kafka_conf_set_error_cb(conf, &ErrorCallback);
}

ClientEvents& EventsOf(const rd_kafka_t* client) {
  return *static_cast<ClientEvents*>(rd_kafka_opaque(client));
}

absl::StatusOr<int32_t> FetchPartitionCount(rd_kafka_t* client, const std::string& topic,
                                            absl::Duration timeout) {
  TopicPtr handle(rd_kafka_topic_new(client, topic.c_str(), nullptr));
  if (handle == nullptr) {
    return KafkaErrorToStatus(rd_kafka_last_error(), absl::StrCat("topic handle for ", topic));
  }
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t error =
      rd_kafka_metadata(client, 0, handle.get(), &raw, ToTimeoutMs(timeout));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(error, absl::StrCat("metadata of ", topic));
  }
  MetadataPtr metadata(raw);
  if (metadata->topic_cnt != 1) {
    return absl::InternalError(
        absl::StrCat("metadata of ", topic, " lists ", metadata->topic_cnt, " topics"));
  }
  const rd_kafka_metadata_topic_t& entry = metadata->topics[0];
  if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(entry.err, absl::StrCat("metadata of ", topic));
  }
  return entry.partition_cnt;
}

}  // namespace klaxon::kafka
