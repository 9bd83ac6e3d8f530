#pragma once
// In-memory Publisher for unit tests: records what was published, or fails with a set status.
// Both calls complete before they return.

#include <mutex>
#include <utility>
#include <vector>

#include "common/messaging/message.h"

namespace klaxon::messaging {

class FakePublisher final : public Publisher {
 public:
  absl::Status Publish(const OutboundMessage& message, absl::Duration) override {
    std::lock_guard lock(mutex_);
    if (!next_status_.ok()) return next_status_;
    published_.push_back(message);
    return absl::OkStatus();
  }

  // Completes at once, before returning, as Publish does.
  void PublishAsync(const OutboundMessage& message, PublishDone done) override {
    std::move(done)(Publish(message, absl::InfiniteDuration()));
  }

  // Every later Publish returns `status` (OK restores normal behaviour).
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    next_status_ = std::move(status);
  }

  std::vector<OutboundMessage> published() const {
    std::lock_guard lock(mutex_);
    return published_;
  }

 private:
  mutable std::mutex mutex_;
  absl::Status next_status_;
  std::vector<OutboundMessage> published_;
};

}  // namespace klaxon::messaging
