#pragma once
// A fixed set of threads that take queued items in batches: each thread takes every item waiting
// (up to max_batch) and hands them to one call of `work`. A busy service pays one wake-up and one
// round trip per batch instead of per item (ingress's webhook claims its callbacks in Redis this
// way, one pipelined write for a batch). A lone item is taken at once, never held to fill a
// batch. The queue is bounded: when it is full, Submit() refuses and the caller sheds the item.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace klaxon::concurrency {

struct BatchWorkersOptions {
  size_t threads = 2;  // at least 1
  size_t max_batch = 64;
  size_t max_queued = 4096;  // waiting items, not counting the batches being worked on
};

template <typename Item>
class BatchWorkers {
 public:
  using Work = std::function<void(std::vector<Item>)>;

  BatchWorkers(BatchWorkersOptions options, Work work) : options_(options), work_(std::move(work)) {
    threads_.reserve(options.threads);
    for (size_t i = 0; i < options.threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  BatchWorkers(const BatchWorkers&) = delete;
  BatchWorkers& operator=(const BatchWorkers&) = delete;
  // Drains (below).
  ~BatchWorkers() { Drain(); }

  // Moves `item` into the queue; false, leaving `item` to the caller untouched, when max_queued
  // items are waiting or once draining began.
  bool Submit(Item& item) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || queue_.size() >= options_.max_queued) return false;
      queue_.push_back(std::move(item));
    }
    ready_.notify_one();
    return true;
  }

  // Refuses new items, works off every item already accepted, then joins the threads.
  void Drain() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    threads_.clear();  // joins
  }

 private:
  void Run() {
    while (true) {
      std::vector<Item> batch;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing accepted is left
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      work_(std::move(batch));
    }
  }

  const BatchWorkersOptions options_;
  const Work work_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::vector<std::jthread> threads_;
};

}  // namespace klaxon::concurrency
