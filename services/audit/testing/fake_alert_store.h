#pragma once
// In-memory AlertStore for unit tests: writes a batch with the same PlanIngest the Postgres
// adapter runs, keeps consent by recipient token under the same Supersedes() rule, keeps the
// event log, data keys and progress per partition, and can be told to fail like a database that
// is down (then nothing of the batch is kept).

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "services/audit/alert_store.h"
#include "services/audit/ingest/ingest_plan.h"

namespace klaxon::audit {

class FakeAlertStore final : public AlertStore {
 public:
  absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) override {
    std::lock_guard lock(mutex_);
    ++batches_;
    batch_sizes_.push_back(batch.size());
    if (!fail_with_.ok()) return fail_with_;
    std::map<std::string, std::optional<AlertRecord>> current;
    for (const std::string& id : AlertIdsOf(batch)) {
      auto found = alerts_.find(id);
      current[id] = found == alerts_.end() ? std::nullopt : std::optional(found->second);
    }
    std::set<std::string> stored;
    for (const std::string& key : EventKeysOf(batch)) {
      if (events_.contains(key)) stored.insert(key);
    }
    IngestPlan plan = PlanIngest(batch, current, stored);
    for (auto& [id, record] : plan.alerts) alerts_[id] = record;
    for (const EventLogEntry& row : plan.events) {
      events_.emplace(row.event_key, row);
      event_order_.push_back(row.event_key);
    }
    for (const auto& [owner, wrapped] : plan.data_keys) data_keys_.try_emplace(owner, wrapped);
    for (const auto& [index, change] : plan.consents) {
      auto [stored_change, changed] = consents_.try_emplace(change.recipient_token, change);
      if (!changed && Supersedes(change, stored_change->second)) {
        stored_change->second = change;
        changed = true;
      }
      plan.results[index].consent_changed = changed;
    }
    return plan.results;
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

  absl::StatusOr<std::vector<AlertRecord>> EscalationPages(
      std::string_view caller, std::string_view escalation_id) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    std::vector<AlertRecord> pages;
    if (escalation_id.empty()) return pages;
    for (const auto& [id, record] : alerts_) {
      if (record.caller == caller && record.escalation_id == escalation_id) {
        pages.push_back(record);
      }
    }
    // Canonical UUIDs compare as strings the way Postgres orders them as uuid.
    std::sort(pages.begin(), pages.end(), [](const AlertRecord& a, const AlertRecord& b) {
      return std::tie(a.escalation_step, a.created_at, a.alert_id) <
             std::tie(b.escalation_step, b.created_at, b.alert_id);
    });
    return pages;
  }

  absl::Status AdvanceProgress(const std::vector<ConsumedOffset>& progress) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    for (const ConsumedOffset& offset : progress) {
      int64_t& next = progress_[{offset.topic, offset.partition}];
      next = std::max(next, offset.next_offset);
    }
    return absl::OkStatus();
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

  // Stores `record` as is (a test's starting point, or a tampered row).
  void Put(AlertRecord record) {
    std::lock_guard lock(mutex_);
    alerts_[record.alert_id] = std::move(record);
  }

  // Forgets the alert, as retention deletes an expired one.
  void Remove(const std::string& alert_id) {
    std::lock_guard lock(mutex_);
    alerts_.erase(alert_id);
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

  // The event log, in the order the rows were written.
  std::vector<EventLogEntry> Events() const {
    std::lock_guard lock(mutex_);
    std::vector<EventLogEntry> rows;
    for (const std::string& key : event_order_) rows.push_back(events_.at(key));
    return rows;
  }

  std::map<std::string, crypto::WrappedKey> DataKeys() const {
    std::lock_guard lock(mutex_);
    return data_keys_;
  }

  int get_alert_calls() const {
    std::lock_guard lock(mutex_);
    return get_alert_calls_;
  }

  // How many Write calls there were, and the size of each batch.
  int batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<size_t> batch_sizes() const {
    std::lock_guard lock(mutex_);
    return batch_sizes_;
  }

 private:
  mutable std::mutex mutex_;
  absl::Status fail_with_;
  std::map<std::string, AlertRecord> alerts_;
  std::map<std::string, EventLogEntry> events_;
  std::vector<std::string> event_order_;
  std::map<std::string, crypto::WrappedKey> data_keys_;
  std::map<std::pair<std::string, int32_t>, int64_t> progress_;
  std::map<std::string, ConsentChange> consents_;
  int get_alert_calls_ = 0;
  int batches_ = 0;
  std::vector<size_t> batch_sizes_;
};

}  // namespace klaxon::audit
