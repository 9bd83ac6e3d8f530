#pragma once
// A BlockingExecutor whose waiting tasks are queued per key (a caller) and taken in turn, one
// from each key with work, so one key's backlog never keeps the others waiting behind all of it:
// behind a caller flooding audit with slow GetAlerts, another caller's call waits for at most one
// of the flood's per free thread. Both the queue and each key's share of it are bounded: past
// either, Submit refuses and the caller answers "overloaded" (gRPC RESOURCE_EXHAUSTED).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace klaxon::concurrency {

struct FairExecutorOptions {
  size_t threads = 8;
  size_t max_queued = 256;          // waiting tasks of every key, not counting the ones running
  size_t max_queued_per_key = 128;  // waiting tasks of one key
};

class FairExecutor {
 public:
  explicit FairExecutor(FairExecutorOptions options);
  FairExecutor(const FairExecutor&) = delete;
  FairExecutor& operator=(const FairExecutor&) = delete;
  // Runs every task already accepted, then joins the threads.
  ~FairExecutor();

  // Queues `task` under `key`; false (and `task` is dropped) when the queue or the key's share
  // of it is full.
  bool Submit(const std::string& key, std::function<void()> task);

 private:
  void Work();

  const FairExecutorOptions options_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::map<std::string, std::deque<std::function<void()>>> queues_;  // guarded; none empty
  std::deque<std::string> turns_;  // keys with waiting tasks, each once, next first; guarded
  size_t queued_ = 0;              // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::vector<std::jthread> threads_;
};

}  // namespace klaxon::concurrency
