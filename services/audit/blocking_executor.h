#pragma once
// A fixed pool of threads for work that blocks (GetAlert may poll Postgres for up to a few
// seconds). gRPC's callback handlers must not block their threads, so the AlertQuery service
// hands each call to this pool and finishes the reactor from here. The queue is bounded: when it
// is full, Submit() refuses and the caller answers RESOURCE_EXHAUSTED instead of piling up work.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace klaxon::audit {

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

}  // namespace klaxon::audit
