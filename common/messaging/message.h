#pragma once
// The ports between Klaxon's logic and its message broker. Service logic publishes and handles
// these plain structs; common/kafka adapts them to librdkafka, and tests use in-memory fakes.

#include <cstdint>
#include <stop_token>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace klaxon::messaging {

struct OutboundMessage {
  std::string topic;
  std::string key;    // alert_id, so one alert's events stay in order on one partition
  std::string value;  // a serialized klaxon.events.v1 message
};

struct InboundMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  // Fires when the consumer gives the message up: its partition was revoked (a rebalance) or the
  // consumer is stopping. A handler that only holds the message to wait (a retry tier's) may then
  // complete it at once with kUnavailable; it stays unstored and the partition's next owner gets
  // it again. A default token never fires.
  std::stop_token given_up = {};
};

// Receives a publish's outcome (Publisher::PublishAsync).
using PublishDone = absl::AnyInvocable<void(absl::Status) &&>;

// Publishes messages durably. Both calls report the same outcomes: OK only once the broker
// acknowledged the write to all in-sync replicas. Otherwise kDeadlineExceeded says the outcome is
// unknown: the message may have been written (it was sent and no answer came, or no delivery
// report came in time), so publishing it again may write it twice. Any other error says it was
// not written: kUnavailable or kResourceExhausted for a broker that could not take it, kNotFound
// for a missing topic, kInternal after a fatal client error.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // Blocks until the outcome is known or `timeout` passed (then kDeadlineExceeded).
  virtual absl::Status Publish(const OutboundMessage& message, absl::Duration timeout) = 0;
  // Starts the publish and returns without waiting for the broker; `done` is called exactly once
  // with the outcome: before this returns when the message could not even be queued, otherwise
  // later from the client's delivery thread. `done` must be short and must not block (it holds
  // up every other delivery report); work that blocks belongs on another thread.
  virtual void PublishAsync(const OutboundMessage& message, PublishDone done) = 0;
};

// The result of handling one consumed message, for both handler kinds below. The consumer stores
// the message's offset only after the result OK; an error that is retryable (kUnavailable,
// kDeadlineExceeded, kResourceExhausted) makes the consumer retry the same message after a
// backoff; any other error is a bug in the message or the handler and is logged with the offset,
// then skipped.

// Handles one consumed message and returns its result; it may block (a Twilio request, a
// database write), so it runs on a thread of its own (ThreadPoolHandler).
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  virtual absl::Status Handle(const InboundMessage& message) = 0;
};

// Receives a message's result. The handler calls it exactly once, from any thread; the consumer's
// completion only queues the result, so it returns at once.
using HandleDone = absl::AnyInvocable<void(absl::Status) &&>;

// Handles one consumed message without holding a thread while it waits: Handle() starts the work
// and returns promptly, and the work reports its result through `done` later (or before Handle()
// returns, e.g. for a message that does not decode). `message` stays valid until `done` is
// called. A consumer may call Handle() for all its messages from one thread, so Handle() must not
// block; blocking work belongs in a MessageHandler behind ThreadPoolHandler.
class AsyncMessageHandler {
 public:
  virtual ~AsyncMessageHandler() = default;
  virtual void Handle(const InboundMessage& message, HandleDone done) = 0;
};

}  // namespace klaxon::messaging
