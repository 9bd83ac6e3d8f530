#pragma once
// WatchAlert's logic: sends the alert as it is now, then again each time its status changes, and
// ends after a final status (alert_status::IsFinal).
//
// Changes are found two ways (docs/adr/0008): the write path announces each alert whose status
// advanced with pg_notify('klaxon_alert_status', alert_id), which ONE listener per process
// (PostgresStatusListener) turns into AlertChanged(); and the same listener calls RecheckAll() on
// a timer, so a lost notification (or a writer that sends none) only delays an update. Either
// wakes the watch, which re-reads its alert (AlertReader::Stored) and sends it if the status moved.
//
// Each open watch holds one thread blocked on its own condition variable (ADR 0003: the wait is
// synchronous); Subscribe() bounds how many there are, in all and per caller (so one caller cannot
// take every thread), and Shutdown() ends them all. A watch open for max_lifetime ends UNAVAILABLE
// at the next wake (the recheck timer wakes every watch each second): the client watches again and
// resumes, as after a shutdown, with the alert as it is then (docs/adr/0012).

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/timing/clock.h"
#include "services/audit/alert.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/query/alert_reader.h"

namespace klaxon::audit {

// Where the listener delivers what it learns.
class StatusChangeSink {
 public:
  virtual ~StatusChangeSink() = default;
  // The alert's status may have changed.
  virtual void AlertChanged(std::string_view alert_id) = 0;
  // Any alert's may have (the timer fired, or notifications may have been lost).
  virtual void RecheckAll() = 0;
};

// The client's end of one watch.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Sends the alert and waits until it is written; false when the client has gone.
  virtual bool Send(const AlertRecord& alert) = 0;
};

struct AlertWatcherOptions {
  size_t max_watchers = 256;
  // Open watches of one caller (KLAXON_WATCH_MAX_PER_CALLER); 0 means only max_watchers applies.
  size_t max_per_caller = 0;
  // How long one watch may stay open (KLAXON_WATCH_MAX_LIFETIME).
  absl::Duration max_lifetime = absl::InfiniteDuration();
};

class AlertWatcher final : public StatusChangeSink {
 public:
  // One open watch, registered for its alert's changes until destroyed.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // The client went away: the watch ends (its Watch returns kCancelled).
    void Cancel();

   private:
    friend AlertWatcher;
    enum class Wake { kChanged, kCancelled, kShutdown };

    Subscription(AlertWatcher& watcher, std::string alert_id, std::string caller,
                 absl::Time expires_at)
        : watcher_(watcher),
          alert_id_(std::move(alert_id)),
          caller_(std::move(caller)),
          expires_at_(expires_at) {}
    void Signal(bool shutdown);
    Wake Wait();

    AlertWatcher& watcher_;
    const std::string alert_id_;
    const std::string caller_;
    const absl::Time expires_at_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool changed_ = false;    // guarded by mutex_
    bool cancelled_ = false;  // guarded by mutex_
    bool shut_down_ = false;  // guarded by mutex_
  };

  // All borrowed; they must outlive the watcher. `reader` gives the first answer (with
  // read-your-writes, so a watch right after SendAlert finds the alert) and the re-reads; `clock`
  // times each watch's lifetime.
  AlertWatcher(AlertReader& reader, AuditMetrics& metrics, timing::Clock& clock,
               AlertWatcherOptions options);

  size_t max_watchers() const { return options_.max_watchers; }

  // Registers `caller`'s watch of `alert_id` before its first read, so no change can slip in
  // between.
  //   kResourceExhausted  max_watchers watches are open, or max_per_caller of the caller's (the
  //                       message names the cap and its variable)
  //   kUnavailable        Shutdown() was called
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(std::string_view alert_id,
                                                          std::string_view caller);

  // Runs the watch of `subscription`'s alert for `caller` until the alert is final (OK), the
  // client goes (kCancelled), Shutdown (kUnavailable: watch again on another replica) or the
  // watch's lifetime runs out (kUnavailable naming max_lifetime: watch again to resume).
  // kInvalidArgument, kNotFound and kUnavailable from the first read as for GetAlert.
  absl::Status Watch(Subscription& subscription, std::string_view caller, absl::Time deadline,
                     WatchStream& stream);

  void AlertChanged(std::string_view alert_id) override;
  void RecheckAll() override;

  // Ends every open watch and refuses new ones.
  void Shutdown();

 private:
  void Unregister(Subscription* subscription);

  AlertReader& reader_;
  AuditMetrics& metrics_;
  timing::Clock& clock_;
  const AlertWatcherOptions options_;
  std::mutex mutex_;
  std::multimap<std::string, Subscription*, std::less<>> watches_;  // guarded by mutex_
  std::map<std::string, size_t, std::less<>> per_caller_;           // guarded by mutex_
  bool shut_down_ = false;                                          // guarded by mutex_
};

}  // namespace klaxon::audit
