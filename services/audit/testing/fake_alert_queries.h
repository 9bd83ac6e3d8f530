#pragma once
// In-memory AlertQueries for unit tests: alerts and their events as the test puts them, filtered
// and ordered as the Postgres adapter does, and told to fail like a database that is down.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "services/audit/query/alert_queries.h"

namespace klaxon::audit {

class FakeAlertQueries final : public AlertQueries {
 public:
  // Adds or replaces the alert; `recipient_index` is what the write path would have stored.
  void Put(const AlertRecord& alert, std::string recipient_index = "") {
    std::lock_guard lock(mutex_);
    alerts_[alert.alert_id] = {alert, std::move(recipient_index)};
  }
  void AddEvent(const std::string& alert_id, const AuditEventRecord& event) {
    std::lock_guard lock(mutex_);
    events_[alert_id].push_back(event);
  }
  void SetDeliveries(DeliveryCountsByGroup counts) {
    std::lock_guard lock(mutex_);
    deliveries_ = std::move(counts);
  }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }
  // The last ListAlerts call's arguments.
  AlertFilter last_filter() {
    std::lock_guard lock(mutex_);
    return last_filter_;
  }
  int32_t last_limit() {
    std::lock_guard lock(mutex_);
    return last_limit_;
  }

  absl::StatusOr<std::vector<AlertRecord>> ListAlerts(const AlertFilter& filter,
                                                      const std::optional<ListCursor>& after,
                                                      int32_t limit) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    last_filter_ = filter;
    last_limit_ = limit;
    std::vector<AlertRecord> found;
    for (const auto& [id, stored] : alerts_) {
      const AlertRecord& alert = stored.first;
      if (alert.caller != filter.caller) continue;
      if (filter.status.has_value() && alert.status != *filter.status) continue;
      if (filter.channel.has_value() && alert.channel != *filter.channel) continue;
      if (filter.recipient_index.has_value() && stored.second != *filter.recipient_index) continue;
      if (filter.created_from.has_value() && alert.created_at < *filter.created_from) continue;
      if (filter.created_before.has_value() && alert.created_at >= *filter.created_before) continue;
      if (after.has_value() && std::tie(alert.created_at, alert.alert_id) >=
                                   std::tie(after->created_at, after->alert_id)) {
        continue;
      }
      found.push_back(alert);
    }
    std::sort(found.begin(), found.end(), [](const AlertRecord& a, const AlertRecord& b) {
      return std::tie(a.created_at, a.alert_id) > std::tie(b.created_at, b.alert_id);
    });
    if (found.size() > static_cast<size_t>(limit)) found.resize(static_cast<size_t>(limit));
    for (AlertRecord& alert : found) alert.attempts.clear();
    return found;
  }

  absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> GetAuditTrail(
      std::string_view caller, std::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    const auto found = alerts_.find(std::string(alert_id));
    if (found == alerts_.end() || found->second.first.caller != caller) return std::nullopt;
    return events_[std::string(alert_id)];
  }

  absl::StatusOr<DeliveryCountsByGroup> CountDeliveries(std::string_view, absl::Time,
                                                        absl::Time) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    return deliveries_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::pair<AlertRecord, std::string>> alerts_;
  std::map<std::string, std::vector<AuditEventRecord>> events_;
  DeliveryCountsByGroup deliveries_;
  absl::Status fail_with_;
  AlertFilter last_filter_;
  int32_t last_limit_ = 0;
};

}  // namespace klaxon::audit
