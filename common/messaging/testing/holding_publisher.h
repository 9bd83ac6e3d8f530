#pragma once
// A Publisher for tests of what waits on Kafka: it keeps every PublishAsync's completion until the
// test releases them, as Kafka does until it acknowledges. Publish (the blocking call) is not
// offered: a test that needs it should not use this fake.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "common/messaging/message.h"

namespace klaxon::messaging {

class HoldingPublisher final : public Publisher {
 public:
  absl::Status Publish(const OutboundMessage&, absl::Duration) override {
    return absl::UnimplementedError("HoldingPublisher only publishes asynchronously");
  }
  void PublishAsync(const OutboundMessage&, PublishDone done) override {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(done));
    changed_.notify_all();
  }

  // Waits up to 30 s until `count` completions are held.
  bool WaitForHeld(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return held_.size() >= count; });
  }
  size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  // Completes every held publish with `status`, from the calling thread.
  void ReleaseAll(const absl::Status& status) {
    std::vector<PublishDone> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (PublishDone& done : held) std::move(done)(status);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<PublishDone> held_;
};

}  // namespace klaxon::messaging
