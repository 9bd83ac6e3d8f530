#pragma once
// TimerThread: the Timers port on one thread of its own and the real clock. However many tasks
// wait, they cost one thread and a queue entry each, not a sleeping thread each (ADR 0017).
// Once `stop` fires, or the TimerThread is destroyed, every waiting task and every task given
// later runs at once with false; the thread runs them all before it ends.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/timing/timers.h"

namespace klaxon::concurrency {

class TimerThread final : public timing::Timers {
 public:
  explicit TimerThread(std::stop_token stop = {});
  TimerThread(const TimerThread&) = delete;
  TimerThread& operator=(const TimerThread&) = delete;
  ~TimerThread() override;

  void At(absl::Time when, timing::TimerTask task) override;

 private:
  void Run(std::stop_token own);

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::multimap<absl::Time, timing::TimerTask> tasks_;  // guarded by mutex_
  uint64_t added_ = 0;                                  // tasks ever given; guarded by mutex_
  std::stop_token stop_;
  std::jthread thread_;  // last: it starts once the rest is set
};

}  // namespace klaxon::concurrency
