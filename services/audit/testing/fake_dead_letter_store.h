#pragma once
// In-memory DeadLetterStore for unit tests: the same ordering, caller scoping and claim rule as
// Postgres, a way to shred a record's data key, and a way to fail like a database that is down.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "services/audit/dead_letters/dead_letters.h"

namespace klaxon::audit {

class FakeDeadLetterStore final : public DeadLetterStore {
 public:
  absl::StatusOr<bool> Add(const NewDeadLetter& letter) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto [stored, inserted] = rows_.try_emplace(
        letter.summary.alert_id, Row{.letter = {.summary = letter.summary,
                                                .request_ciphertext = letter.request_ciphertext,
                                                .wrapped_key = letter.wrapped_key},
                                     .recipient_index = letter.recipient_index});
    return inserted;
  }

  absl::StatusOr<std::vector<DeadLetterSummary>> List(const DeadLetterQuery& query) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    std::vector<DeadLetterSummary> found;
    for (const auto& [id, row] : rows_) {
      const DeadLetterSummary& summary = row.letter.summary;
      if (!query.all_callers && summary.caller != query.caller) continue;
      if (!query.include_replayed && summary.replayed_as.has_value()) continue;
      const DeadLetterFilter& filter = query.filter;
      if (!filter.cause.empty() && summary.cause != filter.cause) continue;
      if (filter.twilio_error_code != 0 && summary.twilio_error_code != filter.twilio_error_code) {
        continue;
      }
      if (filter.from.has_value() && summary.dead_lettered_at < *filter.from) continue;
      if (filter.before.has_value() && summary.dead_lettered_at >= *filter.before) continue;
      if (query.after.has_value() &&
          std::tie(summary.dead_lettered_at, summary.alert_id) >=
              std::tie(query.after->dead_lettered_at, query.after->alert_id)) {
        continue;
      }
      found.push_back(summary);
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::tie(a.dead_lettered_at, a.alert_id) > std::tie(b.dead_lettered_at, b.alert_id);
    });
    if (found.size() > static_cast<size_t>(query.limit))
      found.resize(static_cast<size_t>(query.limit));
    return found;
  }

  absl::StatusOr<std::optional<StoredDeadLetter>> Get(absl::string_view caller,
                                                      absl::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto found = rows_.find(std::string(alert_id));
    if (found == rows_.end() || found->second.letter.summary.caller != caller) return std::nullopt;
    return found->second.letter;
  }

  absl::StatusOr<std::optional<std::string>> FindOwner(absl::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto found = rows_.find(std::string(alert_id));
    if (found == rows_.end()) return std::nullopt;
    return found->second.letter.summary.caller;
  }

  absl::StatusOr<ReplayClaim> ClaimReplay(absl::string_view caller, absl::string_view alert_id,
                                          absl::string_view new_alert_id, absl::Time now,
                                          absl::string_view replayed_by) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    ++claims_;
    auto found = rows_.find(std::string(alert_id));
    if (found == rows_.end() || found->second.letter.summary.caller != caller) {
      return absl::NotFoundError("no such dead letter");
    }
    DeadLetterSummary& summary = found->second.letter.summary;
    const bool claimed = !summary.replayed_as.has_value();
    if (claimed) {
      summary.replayed_as = std::string(new_alert_id);
      summary.replayed_at = now;
      summary.replayed_by = std::string(replayed_by);
      trail_.push_back({.alert_id = std::string(alert_id),
                        .replayed_as = std::string(new_alert_id),
                        .replayed_by = std::string(replayed_by),
                        .at = now});
    }
    return ReplayClaim{.replayed_as = *summary.replayed_as,
                       .replayed_at = *summary.replayed_at,
                       .claimed = claimed};
  }

  absl::StatusOr<int64_t> CountPending() override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    return std::count_if(rows_.begin(), rows_.end(), [](const auto& entry) {
      return !entry.second.letter.summary.replayed_as.has_value();
    });
  }

  // Every later call returns `status` (OK restores normal behaviour).
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }

  // Deletes the record's data key, as retention does.
  void Shred(const std::string& alert_id) {
    std::lock_guard lock(mutex_);
    rows_.at(alert_id).letter.wrapped_key.reset();
  }

  std::string RecipientIndex(const std::string& alert_id) const {
    std::lock_guard lock(mutex_);
    return rows_.at(alert_id).recipient_index;
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return rows_.size();
  }

  int claims() const {
    std::lock_guard lock(mutex_);
    return claims_;
  }

  // The "dead_letter_replayed" events each winning claim recorded, in order.
  struct ReplayRecord {
    std::string alert_id;
    std::string replayed_as;
    std::string replayed_by;
    absl::Time at;
  };
  std::vector<ReplayRecord> trail() const {
    std::lock_guard lock(mutex_);
    return trail_;
  }

 private:
  struct Row {
    StoredDeadLetter letter;
    std::string recipient_index;
  };

  mutable std::mutex mutex_;
  absl::Status fail_with_;
  std::map<std::string, Row> rows_;
  int claims_ = 0;
  std::vector<ReplayRecord> trail_;
};

}  // namespace klaxon::audit
