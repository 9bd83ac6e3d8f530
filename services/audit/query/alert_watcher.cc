#include "services/audit/query/alert_watcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/alert_status/alert_status.h"
#include "services/audit/query/alert_not_found.h"

namespace klaxon::audit {

AlertWatcher::Subscription::~Subscription() { watcher_.Unregister(this); }

void AlertWatcher::Subscription::Cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  wake_.notify_all();
}

void AlertWatcher::Subscription::Signal(bool shutdown) {
  {
    std::lock_guard lock(mutex_);
    changed_ = true;
    shut_down_ = shut_down_ || shutdown;
  }
  wake_.notify_all();
}

AlertWatcher::Subscription::Wake AlertWatcher::Subscription::Wait() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return changed_ || cancelled_ || shut_down_; });
  if (cancelled_) return Wake::kCancelled;
  if (shut_down_) return Wake::kShutdown;
  changed_ = false;
  return Wake::kChanged;
}

AlertWatcher::AlertWatcher(AlertReader& reader, AuditMetrics& metrics, timing::Clock& clock,
                           AlertWatcherOptions options)
    : reader_(reader), metrics_(metrics), clock_(clock), options_(options) {}

absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> AlertWatcher::Subscribe(
    std::string_view alert_id, std::string_view caller) {
  std::lock_guard lock(mutex_);
  if (shut_down_) {
    return absl::UnavailableError("audit is shutting down; watch again");
  }
  if (watches_.size() >= options_.max_watchers) {
    return absl::ResourceExhaustedError(absl::StrCat("audit already serves ", options_.max_watchers,
                                                     " watches; retry with backoff"));
  }
  auto open = per_caller_.find(caller);
  if (options_.max_per_caller > 0 && open != per_caller_.end() &&
      open->second >= options_.max_per_caller) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "caller ", absl::string_view(caller.data(), caller.size()), " already has ", open->second,
        " open watches, the cap per caller (KLAXON_WATCH_MAX_PER_CALLER=", options_.max_per_caller,
        "); close one or retry with backoff"));
  }
  // The constructor is private to the watcher, so make_shared cannot reach it.
  std::shared_ptr<Subscription> subscription(new Subscription(
      *this, std::string(alert_id), std::string(caller), clock_.Now() + options_.max_lifetime));
  watches_.emplace(subscription->alert_id_, subscription.get());
  ++per_caller_[subscription->caller_];
  metrics_.WatchStreams(static_cast<double>(watches_.size()));
  return subscription;
}

void AlertWatcher::Unregister(Subscription* subscription) {
  std::lock_guard lock(mutex_);
  auto [first, last] = watches_.equal_range(subscription->alert_id_);
  for (auto it = first; it != last; ++it) {
    if (it->second == subscription) {
      watches_.erase(it);
      if (auto open = per_caller_.find(subscription->caller_);
          open != per_caller_.end() && --open->second == 0) {
        per_caller_.erase(open);
      }
      break;
    }
  }
  metrics_.WatchStreams(static_cast<double>(watches_.size()));
}

absl::Status AlertWatcher::Watch(Subscription& subscription, std::string_view caller,
                                 absl::Time deadline, WatchStream& stream) {
  // GetAlert's read, so NOT_FOUND and read-your-writes are the same; the personal fields it
  // opened are not streamed.
  absl::StatusOr<AlertView> first = reader_.GetAlert(caller, subscription.alert_id_, deadline);
  if (!first.ok()) return first.status();
  AlertStatus sent_status = first->record.status;
  if (!stream.Send(first->record)) return absl::CancelledError("the client went away");
  while (!alert_status::IsFinal(sent_status)) {
    switch (subscription.Wait()) {
      case Subscription::Wake::kCancelled:
        return absl::CancelledError("the client went away");
      case Subscription::Wake::kShutdown:
        return absl::UnavailableError("audit is shutting down; watch again");
      case Subscription::Wake::kChanged:
        break;
    }
    if (clock_.Now() >= subscription.expires_at_) {
      return absl::UnavailableError(absl::StrCat(
          "the watch reached its maximum lifetime of ", absl::FormatDuration(options_.max_lifetime),
          " (KLAXON_WATCH_MAX_LIFETIME); watch again to resume from the alert's current status"));
    }
    absl::StatusOr<std::optional<AlertRecord>> current =
        reader_.Stored(caller, subscription.alert_id_);
    // A database that is down only delays the watch: the next recheck reads again.
    if (absl::IsUnavailable(current.status())) continue;
    if (!current.ok()) return current.status();
    if (!current->has_value()) {
      return AlertNotFound(subscription.alert_id_);
    }
    if ((*current)->status == sent_status) continue;
    sent_status = (*current)->status;
    if (!stream.Send(**current)) return absl::CancelledError("the client went away");
  }
  return absl::OkStatus();
}

void AlertWatcher::AlertChanged(std::string_view alert_id) {
  std::lock_guard lock(mutex_);
  auto [first, last] = watches_.equal_range(alert_id);
  for (auto it = first; it != last; ++it) it->second->Signal(false);
}

void AlertWatcher::RecheckAll() {
  std::lock_guard lock(mutex_);
  for (const auto& [alert_id, subscription] : watches_) subscription->Signal(false);
}

void AlertWatcher::Shutdown() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  for (const auto& [alert_id, subscription] : watches_) subscription->Signal(true);
}

}  // namespace klaxon::audit
