#include "common/kafka/publisher.h"

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "common/kafka/partitioner.h"

namespace klaxon::kafka {
namespace {

// A delivery report's status, by what librdkafka knows of the message (rd_kafka_message_status):
// one sent and never answered may have been written, whatever the error, so it is
// kDeadlineExceeded; one never sent was not written, so even its timeout is kUnavailable.
absl::Status DeliveryStatus(const rd_kafka_message_t& message, std::string_view topic) {
  const std::string context = absl::StrCat("publish to ", std::string(topic));
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  switch (rd_kafka_message_status(&message)) {
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED:
      return absl::DeadlineExceededError(absl::StrCat(context,
                                                      ": may have been written, no answer came (",
                                                      rd_kafka_err2str(message.err), ")"));
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: {
      absl::Status status = KafkaErrorToStatus(message.err, context);
      if (!absl::IsDeadlineExceeded(status)) return status;
      return absl::UnavailableError(
          absl::StrCat(context, ": not written (", rd_kafka_err2str(message.err), ")"));
    }
    case RD_KAFKA_MSG_STATUS_PERSISTED:
      break;
  }
  return KafkaErrorToStatus(message.err, context);
}

// The properties the delivery guarantees rest on; options.properties may not override them.
constexpr std::array<FixedProperty, 3> kDeliveryGuaranteeProperties{{
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"partitioner", kPartitioner},
}};

absl::StatusOr<std::map<std::string, std::string>> ProducerProperties(
    const PublisherOptions& options) {
  std::map<std::string, std::string> properties = {
      {"message.timeout.ms", absl::StrCat(ToTimeoutMs(options.delivery_timeout))},
  };
  for (const auto& [name, value] : options.properties) properties[name] = value;
  absl::Status pinned =
      PinProperties(kDeliveryGuaranteeProperties, options.properties, "KafkaPublisher", properties);
  if (!pinned.ok()) return pinned;
  return properties;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(PublisherOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  if (options.delivery_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("kafka delivery timeout must be positive");
  }
  if (!options.log) options.log = StderrLog();
  absl::StatusOr<std::map<std::string, std::string>> properties = ProducerProperties(options);
  if (!properties.ok()) return properties.status();
  absl::StatusOr<ConfPtr> conf =
      MakeClientConf(options.brokers, options.security, options.client_id, *properties);
  if (!conf.ok()) return conf.status();

  // The callbacks reach the publisher through the configuration's opaque, so the object must
  // exist before its client; a private constructor keeps it from being used half built.
  auto publisher = absl::WrapUnique(new KafkaPublisher(std::move(options)));
  InstallClientEvents(conf->get(), publisher.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaPublisher::OnDelivery);
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!client.ok()) return client.status();
  publisher->client_ = *std::move(client);
  publisher->poller_ = std::make_unique<MainQueuePoller>(publisher->client_.get());
  return publisher;
}

KafkaPublisher::KafkaPublisher(PublisherOptions options) : options_(std::move(options)) {}

KafkaPublisher::~KafkaPublisher() {
  if (client_ == nullptr) return;
  poller_.reset();
  // flush() serves the remaining delivery reports itself now that the poll thread is gone.
  const rd_kafka_resp_err_t error =
      rd_kafka_flush(client_.get(), ToTimeoutMs(options_.delivery_timeout));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    options_.log("warn", "kafka_flush_incomplete",
                 absl::StrCat(rd_kafka_outq_len(client_.get()),
                              " messages undelivered at shutdown: ", rd_kafka_err2str(error)));
    // Every message still queued gets its delivery report, so every completion is called once.
    rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(client_.get(), 0);
  }
}

absl::Status KafkaPublisher::Publish(const messaging::OutboundMessage& message,
                                     absl::Duration timeout) {
  // Shared with the completion, which may come after this call gave up.
  struct Outcome {
    std::mutex mutex;
    std::condition_variable reported;
    std::optional<absl::Status> status;
    bool abandoned = false;
  };
  auto outcome = std::make_shared<Outcome>();
  PublishAsync(message, [this, outcome, topic = message.topic](absl::Status status) {
    std::lock_guard lock(outcome->mutex);
    if (outcome->abandoned) {
      // Its Publish() already returned kDeadlineExceeded; say how the message ended after all.
      options_.log(status.ok() ? "info" : "warn", "kafka_late_delivery_report",
                   status.ok() ? absl::StrCat("delivered to ", topic) : status.ToString());
      return;
    }
    outcome->status = std::move(status);
    outcome->reported.notify_one();
  });

  std::unique_lock lock(outcome->mutex);
  const auto reported = [&] { return outcome->status.has_value(); };
  if (timeout == absl::InfiniteDuration()) {
    // wait_for(max) would overflow the deadline; message.timeout.ms bounds this wait anyway.
    outcome->reported.wait(lock, reported);
  } else if (!outcome->reported.wait_for(lock, absl::ToChronoNanoseconds(timeout), reported)) {
    outcome->abandoned = true;
    return absl::DeadlineExceededError(absl::StrCat("publish to ", message.topic,
                                                    ": no delivery report within ",
                                                    absl::FormatDuration(timeout)));
  }
  return *std::move(outcome->status);
}

void KafkaPublisher::PublishAsync(const messaging::OutboundMessage& message,
                                  messaging::PublishDone done) {
  if (absl::Status fatal = FatalError(); !fatal.ok()) {
    std::move(done)(std::move(fatal));
    return;
  }
  // librdkafka hands the opaque back in the delivery report, where Deliver() takes it over.
  auto pending = std::make_unique<messaging::PublishDone>(std::move(done));

  std::array<rd_kafka_vu_t, 5> fields{};
  size_t count = 0;
  fields[count].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[count++].u.cstr = message.topic.c_str();
  // RD_KAFKA_MSG_F_COPY: librdkafka copies key and value before produceva returns, so its
  // non-const pointers never write through to the caller's strings.
  fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
  fields[count].u.mem.ptr = const_cast<char*>(message.value.data());
  fields[count++].u.mem.size = message.value.size();
  if (!message.key.empty()) {
    fields[count].vtype = RD_KAFKA_VTYPE_KEY;
    fields[count].u.mem.ptr = const_cast<char*>(message.key.data());
    fields[count++].u.mem.size = message.key.size();
  }
  fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[count++].u.i = RD_KAFKA_MSG_F_COPY;
  fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
  fields[count++].u.ptr = pending.get();

  ErrorPtr error(rd_kafka_produceva(client_.get(), fields.data(), count));
  if (error != nullptr) {
    std::move (*pending)(KafkaErrorToStatus(rd_kafka_error_code(error.get()),
                                            absl::StrCat("publish to ", message.topic)));
    return;
  }
  (void)pending.release();  // queued: its delivery report owns it now
}

absl::Status KafkaPublisher::FatalError() const {
  std::lock_guard lock(mutex_);
  return fatal_error_;
}

void KafkaPublisher::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  // `opaque` is the ClientEvents* given to InstallClientEvents in Create().
  static_cast<KafkaPublisher*>(static_cast<ClientEvents*>(opaque))->Deliver(*message);
}

void KafkaPublisher::Deliver(const rd_kafka_message_t& message) {
  // Every queued message carries the completion PublishAsync() released to librdkafka.
  std::unique_ptr<messaging::PublishDone> done(
      static_cast<messaging::PublishDone*>(message._private));
  const std::string topic = message.rkt != nullptr ? rd_kafka_topic_name(message.rkt) : "";
  absl::Status status = DeliveryStatus(message, topic);
  if (!status.ok()) {
    if (absl::Status fatal = FatalError(); !fatal.ok()) status = std::move(fatal);
  }
  std::move (*done)(std::move(status));
}

void KafkaPublisher::OnKafkaLog(std::string_view level, std::string_view detail) {
  options_.log(level, "kafka_producer_log", detail);
}

void KafkaPublisher::OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error,
                                  const char* reason) {
  ClientError classified =
      ClassifyClientError(client, error, reason, options_.brokers, options_.security, "producer");
  if (classified.fatal.ok()) {
    // librdkafka retries these itself; messages that cannot make it fail their own delivery.
    options_.log(classified.level, "kafka_producer_error", classified.message);
    return;
  }
  options_.log("error", "kafka_producer_fatal", std::string(classified.fatal.message()));
  std::lock_guard lock(mutex_);
  if (fatal_error_.ok()) fatal_error_ = std::move(classified.fatal);
}

}  // namespace klaxon::kafka
