#pragma once
// KafkaPublisher: the messaging::Publisher that ingress and the workers write their events with.
// It is an idempotent producer (enable.idempotence=true, acks=all), so a broker-side retry never
// duplicates or reorders a message, and Publish() returns OK only once the broker has acknowledged
// that very message to all in-sync replicas. A background thread serves delivery reports; the
// destructor flushes what is still queued.
//
// A fatal producer error (librdkafka lost an idempotence guarantee, e.g. the producer was fenced,
// or the brokers refused the client's SASL credentials, which are read only at start) cannot be
// recovered in-process: from then on every Publish() fails with kInternal and
// FatalError() says why, and main() should exit so the orchestrator restarts the service.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/client.h"
#include "common/kafka/security.h"
#include "common/messaging/message.h"

namespace klaxon::kafka {

struct PublisherOptions {
  std::string brokers = {};  // host:port[,host:port]
  Security security = {};    // TLS and SASL (common/kafka/security.h)
  std::string client_id = "klaxon";
  // librdkafka's message.timeout.ms: how long one message may wait for a broker, retries
  // included, before its delivery fails. Bounded so a dead cluster becomes an error quickly.
  absl::Duration delivery_timeout = absl::Seconds(5);
  // More librdkafka properties, e.g. {"linger.ms", "1"}. They may not change enable.idempotence,
  // acks or partitioner, which the delivery guarantees rely on.
  std::map<std::string, std::string> properties = {};
  LogFn log = StderrLog();
};

class KafkaPublisher final : public messaging::Publisher, private ClientEvents {
 public:
  // kInvalidArgument for a missing broker list or a property librdkafka rejects. Connecting
  // happens in the background, so an unreachable cluster surfaces in Publish().
  static absl::StatusOr<std::unique_ptr<KafkaPublisher>> Create(PublisherOptions options);

  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;
  // Waits up to delivery_timeout for queued messages to be delivered.
  ~KafkaPublisher() override;

  // Blocks until the broker acknowledged `message` or `timeout` passed. An empty key is sent as a
  // null key. kDeadlineExceeded when the outcome is unknown: no delivery report came in time (the
  // message may still be delivered later, which is logged), or it was sent and timed out
  // unanswered (librdkafka's "possibly persisted"). kUnavailable when it was not written: never
  // sent within delivery_timeout, or refused for broker trouble; kResourceExhausted for a full
  // local queue; kNotFound when the topic does not exist; kInternal after a fatal error.
  absl::Status Publish(const messaging::OutboundMessage& message, absl::Duration timeout) override;

  // The same outcomes, reported to `done` from the delivery thread (or at once when the message
  // could not be queued). librdkafka reports every message within delivery_timeout, so `done` is
  // always called; at destruction, a message still unreported after the flush is purged and
  // reported as not written or as possibly written, whichever it is.
  void PublishAsync(const messaging::OutboundMessage& message,
                    messaging::PublishDone done) override;

  // OK until librdkafka reported a fatal error; then that error as kInternal.
  absl::Status FatalError() const;

 private:
  explicit KafkaPublisher(PublisherOptions options);

  static void OnDelivery(rd_kafka_t* client, const rd_kafka_message_t* message, void* opaque);
  void Deliver(const rd_kafka_message_t& message);
  void OnKafkaLog(std::string_view level, std::string_view detail) override;
  void OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason) override;

  const PublisherOptions options_;

  mutable std::mutex mutex_;
  absl::Status fatal_error_;  // guarded by mutex_

  // Declared after the state its callbacks use, so it is destroyed before that state.
  KafkaPtr client_;
  // Serves the delivery reports; stopped before the destructor's flush serves the rest itself.
  std::unique_ptr<MainQueuePoller> poller_;
};

}  // namespace klaxon::kafka
