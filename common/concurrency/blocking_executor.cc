#include "common/concurrency/blocking_executor.h"

#include <utility>

namespace klaxon::concurrency {

BlockingExecutor::BlockingExecutor(BlockingExecutorOptions options)
    : max_queued_(options.max_queued) {
  threads_.reserve(options.threads);
  for (size_t i = 0; i < options.threads; ++i) threads_.emplace_back([this] { Work(); });
}

BlockingExecutor::~BlockingExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  threads_.clear();  // joins
}

bool BlockingExecutor::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void BlockingExecutor::Work() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing accepted is left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace klaxon::concurrency
