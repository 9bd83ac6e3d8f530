#pragma once
// Runs one message through an AsyncMessageHandler and waits for its result, for tests that check
// a handler one message at a time (the consumer's concurrency is tested with the consumer).

#include <chrono>
#include <future>
#include <utility>

#include "absl/status/status.h"
#include "common/messaging/message.h"

namespace klaxon::messaging::testing {

// The result `handler` completed `message` with; kDeadlineExceeded when it did not complete
// within a minute.
inline absl::Status HandleAndWait(AsyncMessageHandler& handler, const InboundMessage& message) {
  std::promise<absl::Status> promise;
  std::future<absl::Status> result = promise.get_future();
  handler.Handle(message,
                 [&promise](absl::Status status) { promise.set_value(std::move(status)); });
  if (result.wait_for(std::chrono::minutes(1)) != std::future_status::ready) {
    return absl::DeadlineExceededError("the handler did not complete the message");
  }
  return result.get();
}

}  // namespace klaxon::messaging::testing
