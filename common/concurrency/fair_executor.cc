#include "common/concurrency/fair_executor.h"

#include <utility>

namespace klaxon::concurrency {

FairExecutor::FairExecutor(FairExecutorOptions options) : options_(options) {
  threads_.reserve(options_.threads);
  for (size_t i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Work(); });
}

FairExecutor::~FairExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  threads_.clear();  // joins
}

bool FairExecutor::Submit(const std::string& key, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (queued_ >= options_.max_queued) return false;
    std::deque<std::function<void()>>& queue = queues_[key];
    if (queue.size() >= options_.max_queued_per_key) return false;
    if (queue.empty()) turns_.push_back(key);
    queue.push_back(std::move(task));
    ++queued_;
  }
  ready_.notify_one();
  return true;
}

void FairExecutor::Work() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !turns_.empty(); });
      if (turns_.empty()) return;  // stopping, and nothing accepted is left
      const std::string key = std::move(turns_.front());
      turns_.pop_front();
      auto queue = queues_.find(key);
      task = std::move(queue->second.front());
      queue->second.pop_front();
      --queued_;
      if (queue->second.empty()) {
        queues_.erase(queue);
      } else {
        turns_.push_back(key);  // its next task waits for every other key's turn
      }
    }
    task();
  }
}

}  // namespace klaxon::concurrency
