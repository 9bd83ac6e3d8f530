#include "common/kafka/topics.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace klaxon::kafka {
namespace {

constexpr size_t kMaxTopicLength = 249;

bool IsLegalTopicChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// The admin client's log lines and errors go to the caller's LogFn; a broker that cannot be
// reached shows up here before the request times out. Refused credentials are remembered, so a
// request can stop at once with the reason instead of timing out.
class AdminEvents final : public ClientEvents {
 public:
  AdminEvents(const std::string& brokers, const Security& security, LogFn log)
      : brokers_(brokers), security_(security), log_(std::move(log)) {}
  void OnKafkaLog(std::string_view level, std::string_view detail) override {
    log_(level, "kafka_admin_log", detail);
  }
  void OnKafkaError(rd_kafka_t*, rd_kafka_resp_err_t error, const char* reason) override {
    const std::optional<std::string> link = DescribeLinkError(error, reason, brokers_, security_);
    log_(link ? "error" : "warn", "kafka_admin_error",
         link ? *link : absl::StrCat(rd_kafka_err2name(error), ": ", reason));
    if (link && error == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
      std::lock_guard lock(mutex_);
      refused_ = *link;
    }
  }
  // The description of the refusal, if the brokers refused the client's credentials.
  std::optional<std::string> Refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }

 private:
  const std::string& brokers_;
  const Security& security_;
  LogFn log_;
  mutable std::mutex mutex_;
  std::optional<std::string> refused_;  // guarded by mutex_
};

// Where an admin request goes and how long its answer may take.
struct AdminTarget {
  const std::string& brokers;
  const Security& security;
  absl::Duration timeout;
  const LogFn& log;
};

// One topic's part of an admin request's answer.
struct TopicAnswer {
  std::string name;  // with prefix
  rd_kafka_resp_err_t error;
  std::string detail;  // the broker's words on the error, if any
};

// Sends one admin request about topics and waits for the controller's answer, topic by topic.
// `send` starts the request (rd_kafka_CreateTopics, ...) with the options and the queue given;
// `results` reads the topics out of the result event, nullptr when the event is of another kind.
// `what` names the request in errors.
absl::StatusOr<std::vector<TopicAnswer>> AskAboutTopics(
    const AdminTarget& target, rd_kafka_admin_op_t op, absl::string_view what,
    absl::FunctionRef<void(rd_kafka_t*, const rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)> send,
    absl::FunctionRef<const rd_kafka_topic_result_t**(rd_kafka_event_t*, size_t*)> results) {
  absl::StatusOr<ConfPtr> conf =
      MakeClientConf(target.brokers, target.security, "klaxon-admin", {});
  if (!conf.ok()) return conf.status();
  AdminEvents events(target.brokers, target.security, target.log ? target.log : StderrLog());
  InstallClientEvents(conf->get(), &events);
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!client.ok()) return client.status();

  AdminOptionsPtr admin_options(rd_kafka_AdminOptions_new(client->get(), op));
  std::array<char, 512> error{};
  // The operation timeout makes the controller answer only once the topics exist (or are gone),
  // so a caller can produce right after CreateTopics returns.
  if (rd_kafka_AdminOptions_set_request_timeout(admin_options.get(), ToTimeoutMs(target.timeout),
                                                error.data(), error.size()) != 0 ||
      rd_kafka_AdminOptions_set_operation_timeout(admin_options.get(), ToTimeoutMs(target.timeout),
                                                  error.data(), error.size()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("admin timeout: ", error.data()));
  }
  QueuePtr queue(rd_kafka_queue_new(client->get()));
  send(client->get(), admin_options.get(), queue.get());

  // librdkafka answers on its own once the request timeout expires; the margin only guards
  // against a result that never comes. Polled in slices to stop early when the brokers refuse
  // the client's credentials, which librdkafka would otherwise retry until the timeout.
  constexpr absl::Duration kSlice = absl::Milliseconds(100);
  const absl::Time deadline = absl::Now() + target.timeout + absl::Seconds(5);
  EventPtr event;
  while (event == nullptr && absl::Now() < deadline) {
    rd_kafka_poll(client->get(), 0);  // serves the error callback that notes a refusal
    if (std::optional<std::string> refused = events.Refused()) {
      return absl::PermissionDeniedError(*refused);
    }
    event.reset(rd_kafka_queue_poll(queue.get(), ToTimeoutMs(kSlice)));
  }
  if (event == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrCat("no answer to ", what, " from ", target.brokers));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(rd_kafka_event_error(event.get()),
                              absl::StrCat(what, " on ", target.brokers));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** topics = results(event.get(), &count);
  if (topics == nullptr) {
    return absl::InternalError(absl::StrCat(what, " answered with an event of another type"));
  }
  std::vector<TopicAnswer> answers;
  for (size_t i = 0; i < count; ++i) {
    const char* detail = rd_kafka_topic_result_error_string(topics[i]);
    answers.push_back({.name = rd_kafka_topic_result_name(topics[i]),
                       .error = rd_kafka_topic_result_error(topics[i]),
                       .detail = detail != nullptr ? detail : ""});
  }
  return answers;
}

// The status of a topic's answer that is an error, naming the topic and what was done to it.
absl::Status TopicError(absl::string_view done, const TopicAnswer& answer) {
  return KafkaErrorToStatus(
      answer.error,
      absl::StrCat(done, " topic ", answer.name,
                   answer.detail.empty() ? "" : absl::StrCat(" (", answer.detail, ")")));
}

absl::StatusOr<std::vector<NewTopicPtr>> NewTopics(const CreateTopicsOptions& options) {
  std::vector<NewTopicPtr> topics;
  for (const TopicSpec& spec : kTopics) {
    absl::StatusOr<std::string> name = PrefixedTopic(options.prefix, spec.name);
    if (!name.ok()) return name.status();
    std::array<char, 512> error{};
    NewTopicPtr topic(
        rd_kafka_NewTopic_new(name->c_str(), options.partitions.value_or(spec.partitions),
                              options.replication_factor, error.data(), error.size()));
    if (topic == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("topic ", *name, ": ", error.data()));
    }
    const std::string retention_ms = absl::StrCat(absl::ToInt64Milliseconds(spec.retention));
    const rd_kafka_resp_err_t set_error =
        rd_kafka_NewTopic_set_config(topic.get(), "retention.ms", retention_ms.c_str());
    if (set_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(set_error, absl::StrCat("retention.ms of ", *name));
    }
    topics.push_back(std::move(topic));
  }
  return topics;
}

}  // namespace

absl::StatusOr<std::string> PrefixedTopic(std::string_view prefix, std::string_view name) {
  std::string topic = std::string(prefix).append(name);
  if (topic.empty() || topic.size() > kMaxTopicLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name '", topic, "' must have 1 to ", kMaxTopicLength, " characters"));
  }
  if (topic == "." || topic == "..") {
    return absl::InvalidArgumentError(absl::StrCat("topic name '", topic, "' is reserved"));
  }
  if (!std::all_of(topic.begin(), topic.end(), IsLegalTopicChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name '", topic, "' may only hold a-z, A-Z, 0-9, '.', '_' and '-'"));
  }
  return topic;
}

absl::StatusOr<std::vector<TopicResult>> CreateTopics(const CreateTopicsOptions& options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  if (options.partitions.has_value() && *options.partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition count must be positive, not ", *options.partitions));
  }
  absl::StatusOr<std::vector<NewTopicPtr>> topics = NewTopics(options);
  if (!topics.ok()) return topics.status();
  std::vector<rd_kafka_NewTopic_t*> raw_topics;
  for (const NewTopicPtr& topic : *topics) raw_topics.push_back(topic.get());

  absl::StatusOr<std::vector<TopicAnswer>> answers = AskAboutTopics(
      {options.brokers, options.security, options.timeout, options.log},
      RD_KAFKA_ADMIN_OP_CREATETOPICS, "CreateTopics",
      [&](rd_kafka_t* client, const rd_kafka_AdminOptions_t* admin, rd_kafka_queue_t* queue) {
        rd_kafka_CreateTopics(client, raw_topics.data(), raw_topics.size(), admin, queue);
      },
      [](rd_kafka_event_t* event, size_t* count) -> const rd_kafka_topic_result_t** {
        const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
        return result != nullptr ? rd_kafka_CreateTopics_result_topics(result, count) : nullptr;
      });
  if (!answers.ok()) return answers.status();
  std::vector<TopicResult> created;
  for (const TopicAnswer& answer : *answers) {
    if (answer.error != RD_KAFKA_RESP_ERR_NO_ERROR &&
        answer.error != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return TopicError("create", answer);
    }
    created.push_back({.name = answer.name, .created = answer.error == RD_KAFKA_RESP_ERR_NO_ERROR});
  }
  return created;
}

absl::StatusOr<std::vector<std::string>> DeleteTopics(const DeleteTopicsOptions& options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  std::vector<DeleteTopicPtr> topics;
  std::vector<rd_kafka_DeleteTopic_t*> raw_topics;
  for (const TopicSpec& spec : kTopics) {
    absl::StatusOr<std::string> name = PrefixedTopic(options.prefix, spec.name);
    if (!name.ok()) return name.status();
    topics.emplace_back(rd_kafka_DeleteTopic_new(name->c_str()));
    raw_topics.push_back(topics.back().get());
  }

  absl::StatusOr<std::vector<TopicAnswer>> answers = AskAboutTopics(
      {options.brokers, options.security, options.timeout, options.log},
      RD_KAFKA_ADMIN_OP_DELETETOPICS, "DeleteTopics",
      [&](rd_kafka_t* client, const rd_kafka_AdminOptions_t* admin, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteTopics(client, raw_topics.data(), raw_topics.size(), admin, queue);
      },
      [](rd_kafka_event_t* event, size_t* count) -> const rd_kafka_topic_result_t** {
        const rd_kafka_DeleteTopics_result_t* result = rd_kafka_event_DeleteTopics_result(event);
        return result != nullptr ? rd_kafka_DeleteTopics_result_topics(result, count) : nullptr;
      });
  if (!answers.ok()) return answers.status();
  std::vector<std::string> deleted;
  for (const TopicAnswer& answer : *answers) {
    if (answer.error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    if (answer.error != RD_KAFKA_RESP_ERR_NO_ERROR) return TopicError("delete", answer);
    deleted.push_back(answer.name);
  }
  return deleted;
}

}  // namespace klaxon::kafka
