#pragma once
// Runs the sandbox's delayed work (status changes and the status callbacks that announce them)
// on one worker thread, in due-time order, tasks due together in the order they were
// scheduled. Stopping drops what has not run yet.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/concurrency/timer_thread.h"
#include "common/curl/curl_handles.h"

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

// POSTs callbacks form-encoded with libcurl. A connection that carried an answer is kept open
// for the next callback (at most `max_idle` connections kept, one pool), as an HTTP/1.1 client
// does; a new one per callback cost the sandbox and the receiver a connect and a close each. As
// with any kept connection, a receiver that acts on a callback and then drops the connection
// without answering may get it twice (libcurl sends it again on a new connection); Twilio's
// I-Twilio-Idempotency-Token, which the sandbox sends, is what a receiver deduplicates by.
class CurlCallbackSender : public CallbackSender {
 public:
  CurlCallbackSender(absl::Duration timeout, size_t max_idle)
      : timeout_(timeout), handles_(max_idle) {}
  absl::Status Send(const StatusCallback& callback) override;

 private:
  absl::Duration timeout_;
  curl::HandlePool handles_;
};

struct CallbackDeliveryOptions {
  concurrency::BlockingExecutorOptions pool;
  // Twilio's default for a callback it could not deliver (TWILIO.md, "Webhooks Twilio sends"): it
  // retries only a failed connection, once, this long after, with the same idempotency token.
  absl::Duration connect_retry = absl::Seconds(1);
};

// Delivers callbacks many at a time, as Twilio does: it does not wait for one callback's answer
// before sending the next, so a burst of sends gets its callbacks at the rate ingress can take
// them, and they may arrive out of order (TWILIO.md). Send() queues the callback for `inner` on
// a pool and returns at once; a callback that finds the pool's max_queued already waiting is
// dropped (kResourceExhausted), like one Twilio could not deliver.
//
// A callback whose connection failed (kUnavailable from `inner`) is queued once more
// `connect_retry` later; it waits on a timer, not on a pool thread, so an ingress that refuses
// connections for a while does not take the pool's threads from the other callbacks. A callback
// that reached the receiver is never sent again, whatever the answer. Destruction delivers what
// was queued and drops the retries still waiting.
class ConcurrentCallbackSender : public CallbackSender {
 public:
  // `inner` is borrowed and must outlive this sender.
  ConcurrentCallbackSender(CallbackSender& inner, CallbackDeliveryOptions options);
  ~ConcurrentCallbackSender() override;
  absl::Status Send(const StatusCallback& callback) override;

 private:
  // On the pool: one try, and on a failed connection the retry, unless this is it.
  void Deliver(const StatusCallback& callback, bool retry);
  void RetryLater(const StatusCallback& callback);

  CallbackSender& inner_;
  const absl::Duration connect_retry_;
  std::mutex retries_mutex_;
  bool closing_ = false;  // guarded by retries_mutex_; no retry is scheduled once set
  // Reset first on destruction, while the pool still takes the retries that came due.
  std::optional<concurrency::TimerThread> retry_timers_;
  concurrency::BlockingExecutor pool_;
};

}  // namespace klaxon::sandbox
