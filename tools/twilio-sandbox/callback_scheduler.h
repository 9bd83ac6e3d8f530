#pragma once
// Runs the sandbox's delayed work (status changes and the status callbacks that announce them)
// on one worker thread, in due-time order, tasks due together in the order they were
// scheduled. Stopping drops what has not run yet.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"

namespace klaxon::sandbox {

class CallbackScheduler {
 public:
  CallbackScheduler();
  ~CallbackScheduler();  // stops
  CallbackScheduler(const CallbackScheduler&) = delete;
  CallbackScheduler& operator=(const CallbackScheduler&) = delete;

  void Schedule(absl::Duration delay, std::function<void()> task);
  void Stop();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t next_sequence_ = 0;
  // Keyed by (due time, sequence) so equal due times keep scheduling order.
  std::map<std::pair<std::chrono::steady_clock::time_point, uint64_t>, std::function<void()>>
      tasks_;
  std::thread worker_;
};

// A status callback as it goes on the wire: form parameters in order, plus headers.
struct StatusCallback {
  std::string url;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Delivers status callbacks. The sandbox calls Send from its one scheduler thread, in due order.
// kUnavailable means the connection failed, so nothing reached the receiver; any other failure
// (no answer in time, an answer other than 2xx) may have been acted on.
class CallbackSender {
 public:
  virtual ~CallbackSender() = default;
  virtual absl::Status Send(const StatusCallback& callback) = 0;
};

// POSTs callbacks form-encoded with libcurl.
class CurlCallbackSender : public CallbackSender {
 public:
  explicit CurlCallbackSender(absl::Duration timeout) : timeout_(timeout) {}
  absl::Status Send(const StatusCallback& callback) override;

 private:
  absl::Duration timeout_;
};

// Twilio's default for a callback it could not deliver (TWILIO.md, "Webhooks Twilio sends"): it
// retries only a failed connection, here once after `delay`, with the same idempotency token; a
// callback that reached the receiver is never sent again, whatever the answer.
class ConnectRetryingCallbackSender : public CallbackSender {
 public:
  // `inner` is borrowed and must outlive this sender.
  ConnectRetryingCallbackSender(CallbackSender& inner, absl::Duration delay)
      : inner_(inner), delay_(delay) {}
  absl::Status Send(const StatusCallback& callback) override;

 private:
  CallbackSender& inner_;
  absl::Duration delay_;
};

// Delivers callbacks many at a time, as Twilio does: it does not wait for one callback's answer
// before sending the next, so a burst of sends gets its callbacks at the rate ingress can take
// them, and they may arrive out of order (TWILIO.md). Send() queues the callback for `inner` on
// a pool and returns at once; a callback that finds max_queued already waiting is dropped
// (kResourceExhausted), like one Twilio could not deliver. Destruction delivers what was queued.
class ConcurrentCallbackSender : public CallbackSender {
 public:
  // `inner` is borrowed and must outlive this sender.
  ConcurrentCallbackSender(CallbackSender& inner, concurrency::BlockingExecutorOptions options)
      : inner_(inner), pool_(options) {}
  absl::Status Send(const StatusCallback& callback) override;

 private:
  CallbackSender& inner_;
  concurrency::BlockingExecutor pool_;
};

}  // namespace klaxon::sandbox
