#pragma once
// In-memory AlertStore for unit tests: applies the real projection, keeps consent by recipient
// token under the same Supersedes() rule as Postgres, keeps progress per partition, and can be
// told to fail like a database that is down.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "services/audit/alert_store.h"
#include "services/audit/projection.h"

namespace klaxon::audit {

class FakeAlertStore final : public AlertStore {
 public:
  absl::StatusOr<std::optional<StatusAdvance>> Apply(const AlertEvent& event,
                                                     const ConsumedOffset& progress) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    std::optional<AlertRecord> current;
    if (auto found = alerts_.find(event.alert_id); found != alerts_.end()) current = found->second;
    AlertRecord next = ApplyEvent(current, event);
    std::optional<StatusAdvance> advanced = AdvancedStatus(current, next);
    alerts_[event.alert_id] = std::move(next);
    AdvanceLocked(progress);
    return advanced;
  }

  absl::StatusOr<bool> RecordConsent(const ConsentChange& change,
                                     const ConsumedOffset& progress) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    AdvanceLocked(progress);
    auto [stored, inserted] = consents_.try_emplace(change.recipient_token, change);
    if (inserted) return true;
    if (!Supersedes(change, stored->second)) return false;
    stored->second = change;
    return true;
  }

  absl::Status RecordProgress(const ConsumedOffset& progress) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    AdvanceLocked(progress);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                      std::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    ++get_alert_calls_;
    if (!fail_with_.ok()) return fail_with_;
    auto found = alerts_.find(std::string(alert_id));
    if (found == alerts_.end() || found->second.caller != caller) return std::nullopt;
    return found->second;
  }

  absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto found = progress_.find({std::string(topic), partition});
    return found == progress_.end() ? 0 : found->second;
  }

  // Every later call fails with `status` (OK restores normal behaviour).
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }

  std::optional<AlertRecord> Find(const std::string& alert_id) const {
    std::lock_guard lock(mutex_);
    auto found = alerts_.find(alert_id);
    if (found == alerts_.end()) return std::nullopt;
    return found->second;
  }

  // The recorded consent of the recipient with this token.
  std::optional<ConsentChange> FindConsent(const std::string& recipient_token) const {
    std::lock_guard lock(mutex_);
    auto found = consents_.find(recipient_token);
    if (found == consents_.end()) return std::nullopt;
    return found->second;
  }

  int get_alert_calls() const {
    std::lock_guard lock(mutex_);
    return get_alert_calls_;
  }

 private:
  void AdvanceLocked(const ConsumedOffset& progress) {
    int64_t& next = progress_[{progress.topic, progress.partition}];
    next = std::max(next, progress.next_offset);
  }

  mutable std::mutex mutex_;
  absl::Status fail_with_;
  std::map<std::string, AlertRecord> alerts_;
  std::map<std::pair<std::string, int32_t>, int64_t> progress_;
  std::map<std::string, ConsentChange> consents_;
  int get_alert_calls_ = 0;
};

}  // namespace klaxon::audit
