#pragma once
// A fixed pool of threads for work that blocks. Callback-style servers must not block their own
// threads: audit's AlertQuery hands each GetAlert here (it may poll Postgres for seconds), and
// ingress's webhook server each Twilio request (it waits for Redis and Kafka). The queue is
// bounded: when it is full, Submit() refuses and the caller answers "overloaded" (gRPC
// RESOURCE_EXHAUSTED, HTTP 503) instead of piling up work.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace klaxon::concurrency {

struct BlockingExecutorOptions {
  size_t threads = 8;
  size_t max_queued = 256;  // waiting tasks, not counting the ones running
};

class BlockingExecutor {
 public:
  explicit BlockingExecutor(BlockingExecutorOptions options);
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;
  // Runs every task already accepted, then joins the threads.
  ~BlockingExecutor();

  // Queues `task`; false (and `task` is dropped) when max_queued tasks are already waiting.
  bool Submit(std::function<void()> task);

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::jthread> threads_;
};

}  // namespace klaxon::concurrency
