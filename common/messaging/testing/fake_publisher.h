#pragma once
// In-memory Publisher for unit tests: records what was published, or fails with a set status.

#include <mutex>
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
