#pragma once
// A simulated Clock: SleepFor advances time at once and then runs an optional hook, which tests
// use to make "the consumer catches up" happen during a wait.

#include <functional>
#include <mutex>

#include "services/audit/clock.h"

namespace klaxon::audit {

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
      ++sleeps_;
      hook = on_sleep_;
    }
    if (hook) hook();
  }

  void OnSleep(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    on_sleep_ = std::move(hook);
  }

  int sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }

 private:
  mutable std::mutex mutex_;
  absl::Time now_;
  int sleeps_ = 0;
  std::function<void()> on_sleep_;
};

}  // namespace klaxon::audit
