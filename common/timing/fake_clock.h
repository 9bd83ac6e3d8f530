#pragma once
// A simulated Clock for tests: SleepFor advances time at once, remembers the duration, and then
// runs an optional hook, which tests use to make something happen "during" a wait.

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "common/timing/clock.h"

namespace klaxon::timing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}

  absl::Time Now() override {
    std::lock_guard lock(mutex_);
    return now_;
  }

  void SleepFor(absl::Duration duration) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      now_ += duration;
      sleeps_.push_back(duration);
      hook = on_sleep_;
    }
    if (hook) hook();
  }

  // Moves time on without a sleep: time something else took, e.g. a thread waking up late.
  void Advance(absl::Duration duration) {
    std::lock_guard lock(mutex_);
    now_ += duration;
  }

  void OnSleep(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    on_sleep_ = std::move(hook);
  }

  // Every SleepFor so far, in order.
  std::vector<absl::Duration> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  absl::Time now_;
  std::vector<absl::Duration> sleeps_;
  std::function<void()> on_sleep_;
};

}  // namespace klaxon::timing
