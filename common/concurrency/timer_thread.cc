#include "common/concurrency/timer_thread.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace klaxon::concurrency {

TimerThread::TimerThread(std::stop_token stop)
    : stop_(std::move(stop)), thread_([this](std::stop_token own) { Run(std::move(own)); }) {}

TimerThread::~TimerThread() {
  thread_.request_stop();
  thread_.join();
}

void TimerThread::At(absl::Time when, timing::TimerTask task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.emplace(when, std::move(task));
    ++added_;
  }
  changed_.notify_one();
}

void TimerThread::Run(std::stop_token own) {
  // Either token wakes the waits below. The lock makes sure the thread is waiting, or has not yet
  // looked at the token, when the notification comes.
  std::stop_callback on_stop(stop_, [this] {
    { std::lock_guard lock(mutex_); }
    changed_.notify_one();
  });
  std::unique_lock lock(mutex_);
  while (true) {
    const bool stopping = own.stop_requested() || stop_.stop_requested();
    const absl::Time now = absl::Now();
    std::vector<timing::TimerTask> ready;
    for (auto it = tasks_.begin(); it != tasks_.end() && (stopping || it->first <= now);
         it = tasks_.erase(it)) {
      ready.push_back(std::move(it->second));
    }
    if (!ready.empty()) {
      lock.unlock();
      for (timing::TimerTask& task : ready) std::move(task)(!stopping);
      ready.clear();  // what the tasks hold is freed outside the lock too
      lock.lock();
      continue;  // tasks may have been added meanwhile
    }
    if (own.stop_requested()) return;  // nothing is left, and nothing more comes
    // Woken by a new task (it may be due before the earliest one), by the time of the earliest,
    // or by a stop.
    const uint64_t seen = added_;
    if (tasks_.empty()) {
      changed_.wait(lock, own, [&] { return added_ != seen; });
    } else {
      changed_.wait_for(lock, own, absl::ToChronoNanoseconds(tasks_.begin()->first - now),
                        [&] { return added_ != seen || stop_.stop_requested(); });
    }
  }
}

}  // namespace klaxon::concurrency
