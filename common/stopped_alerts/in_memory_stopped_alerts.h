#pragma once
// StoppedAlerts in process memory, for unit tests of whatever stops alerts or checks them. It
// ignores keep_for (expiry is covered by RedisStoppedAlerts' integration test); a failure can be
// injected for every call.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/stopped_alerts/stopped_alerts.h"

namespace klaxon::stopped_alerts {

class InMemoryStoppedAlerts final : public StoppedAlerts {
 public:
  absl::StatusOr<std::optional<StopReason>> Find(std::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = stops_.find(std::string(alert_id));
    if (it == stops_.end()) return std::nullopt;
    return it->second;
  }

  absl::StatusOr<StopReason> Stop(std::string_view alert_id, StopReason reason,
                                  absl::Duration keep_for) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    last_keep_for_ = keep_for;
    return stops_.try_emplace(std::string(alert_id), reason).first->second;
  }

  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

  absl::Duration last_keep_for() {
    std::lock_guard lock(mutex_);
    return last_keep_for_;
  }

 private:
  std::mutex mutex_;
  absl::Status status_;
  std::map<std::string, StopReason> stops_;
  absl::Duration last_keep_for_;
};

}  // namespace klaxon::stopped_alerts
