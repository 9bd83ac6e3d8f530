#pragma once
// Turns SIGTERM/SIGINT into a std::stop_token that every loop in a service can watch.
//
// ShutdownSignal::Create() blocks SIGTERM and SIGINT in the calling thread; threads started later
// inherit that mask, so the signal is only ever consumed by the watcher thread (through a
// signalfd) and never interrupts or kills a worker thread. Create it FIRST in main(), before
// anything starts a thread (gRPC, librdkafka, Pistache, loggers...); Create() fails with
// kFailedPrecondition when another thread already runs without blocking those signals.
//
// Drain order for mains, once token() is stopped (all within the pod's grace period):
//   1. Mark not ready (/readyz answers 503) so Kubernetes stops routing new traffic.
//   2. Stop taking work: gRPC server Shutdown(deadline) / stop the HTTP listener / stop polling
//      the consumer. In-flight requests get the deadline to finish.
//   3. Finish or hand back in-flight work (a worker publishes the outcome, or leaves the offset
//      uncommitted so the message is redelivered).
//   4. Flush the Kafka producer (bounded), then store/commit the consumer offsets of what was
//      published.
//   5. Close Postgres/Redis connections, stop the admin server last (so probes and a final
//      scrape work until the end), flush logs, return from main.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::lifecycle {

class ShutdownSignal {
 public:
  static absl::StatusOr<std::unique_ptr<ShutdownSignal>> Create();

  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;
  // Stops and joins the watcher. SIGTERM/SIGINT stay blocked in the creating thread, so a late
  // signal is left pending instead of killing a process that is already shutting down.
  ~ShutdownSignal();

  // Stopped once SIGTERM or SIGINT arrived or Trigger() was called.
  std::stop_token token() const { return source_.get_token(); }
  bool triggered() const { return source_.stop_requested(); }

  // Blocks until shutdown is requested.
  void Wait() const;
  // Like Wait() with a bound; returns whether shutdown was requested.
  bool WaitFor(absl::Duration timeout) const;

  // Requests shutdown without a signal (tests, or a fatal error found by the service itself).
  void Trigger();

  // The signal that requested shutdown (SIGTERM or SIGINT), 0 if none did (yet, or Trigger()).
  int signal_number() const { return signal_number_.load(); }

 private:
  ShutdownSignal(int signal_fd, int wake_fd);
  void Watch(std::stop_token watcher_stop);
  void Request(int signal_number);

  int signal_fd_;
  int wake_fd_;
  std::stop_source source_;
  std::atomic<bool> claimed_{false};
  std::atomic<int> signal_number_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable requested_cv_;
  bool requested_ = false;  // guarded by mutex_
  std::jthread watcher_;
};

}  // namespace klaxon::lifecycle
