#pragma once
// A Timers fake for tests: tasks wait until the test runs them, on the test's thread.

#include <cstddef>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/timing/timers.h"

namespace klaxon::timing {

class ManualTimers final : public Timers {
 public:
  void At(absl::Time when, TimerTask task) override {
    std::lock_guard lock(mutex_);
    tasks_.emplace(when, std::move(task));
  }

  // Runs, in time order, every task due at `now` with true.
  void RunDue(absl::Time now) {
    for (TimerTask& task : Take([now](absl::Time when) { return when <= now; })) {
      std::move(task)(true);
    }
  }

  // Runs every task with false, as timers that stop do.
  void Stop() {
    for (TimerTask& task : Take([](absl::Time) { return true; })) std::move(task)(false);
  }

  size_t pending() const {
    std::lock_guard lock(mutex_);
    return tasks_.size();
  }

  // The time of the earliest pending task; absl::InfiniteFuture() when none is.
  absl::Time next() const {
    std::lock_guard lock(mutex_);
    return tasks_.empty() ? absl::InfiniteFuture() : tasks_.begin()->first;
  }

 private:
  template <typename Chosen>
  std::vector<TimerTask> Take(Chosen chosen) {
    std::lock_guard lock(mutex_);
    std::vector<TimerTask> taken;
    for (auto it = tasks_.begin(); it != tasks_.end() && chosen(it->first);) {
      taken.push_back(std::move(it->second));
      it = tasks_.erase(it);
    }
    return taken;
  }

  mutable std::mutex mutex_;
  std::multimap<absl::Time, TimerTask> tasks_;
};

}  // namespace klaxon::timing
