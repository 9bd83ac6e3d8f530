#pragma once
// The ports between Klaxon's logic and its message broker. Service logic publishes and handles
// these plain structs; common/kafka adapts them to librdkafka, and tests use in-memory fakes.

#include <cstdint>
#include <string>

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
};

// Publishes messages durably.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // Returns OK only once the broker acknowledged the write to all in-sync replicas. Otherwise
  // kDeadlineExceeded says the outcome is unknown: the message may have been written (it was sent
  // and no answer came, or no delivery report came within `timeout`), so publishing it again may
  // write it twice. Any other error says it was not written: kUnavailable or kResourceExhausted
  // for a broker that could not take it, kNotFound for a missing topic, kInternal after a fatal
  // client error.
  virtual absl::Status Publish(const OutboundMessage& message, absl::Duration timeout) = 0;
};

// Handles one consumed message. The consumer stores the message's offset only after the handler
// returns OK; an error that is retryable (kUnavailable, kDeadlineExceeded, kResourceExhausted)
// makes the consumer retry the same message after a backoff; any other error is a bug in the
// message or the handler and is logged with the offset, then skipped.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  virtual absl::Status Handle(const InboundMessage& message) = 0;
};

}  // namespace klaxon::messaging
