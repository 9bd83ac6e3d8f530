#pragma once
// AttemptLedger in process memory, for unit tests of the dispatcher. Failures can be injected for
// every operation at once or for the next RecordOutcome, MarkUnsettled or Release only.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "services/delivery/attempt_ledger.h"

namespace klaxon::delivery {

class InMemoryAttemptLedger final : public AttemptLedger {
 public:
  absl::StatusOr<AttemptClaim> Claim(std::string_view alert_id, uint32_t attempt,
                                     std::string_view owner, absl::Time now) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto [it, inserted] = records_.try_emplace(Key(alert_id, attempt),
                                               Record{.owner = std::string(owner), .claim = {}});
    Record& record = it->second;
    if (inserted) {
      record.claim = {.state = AttemptClaim::State::kInProgress, .claimed_at = now};
      return AttemptClaim{};
    }
    if (record.claim.state == AttemptClaim::State::kInProgress && record.owner == owner) {
      return AttemptClaim{};
    }
    return record.claim;
  }

  absl::Status RecordOutcome(std::string_view alert_id, uint32_t attempt,
                             const events::v1::DeliveryOutcome& outcome) override {
    std::lock_guard lock(mutex_);
    if (absl::Status failure = TakeFailure(next_record_failure_); !failure.ok()) return failure;
    records_[Key(alert_id, attempt)].claim = {.state = AttemptClaim::State::kDone,
                                              .outcome = outcome};
    return absl::OkStatus();
  }

  absl::Status MarkUnsettled(std::string_view alert_id, uint32_t attempt,
                             absl::Time sent_at) override {
    std::lock_guard lock(mutex_);
    if (absl::Status failure = TakeFailure(next_mark_failure_); !failure.ok()) return failure;
    records_[Key(alert_id, attempt)].claim = {.state = AttemptClaim::State::kUnsettled,
                                              .sent_at = sent_at};
    return absl::OkStatus();
  }

  absl::Status Release(std::string_view alert_id, uint32_t attempt,
                       std::string_view owner) override {
    std::lock_guard lock(mutex_);
    if (absl::Status failure = TakeFailure(next_release_failure_); !failure.ok()) return failure;
    auto it = records_.find(Key(alert_id, attempt));
    if (it != records_.end() && it->second.owner == owner &&
        it->second.claim.state == AttemptClaim::State::kInProgress) {
      records_.erase(it);
    }
    return absl::OkStatus();
  }

  // What the ledger holds for the attempt; nullopt when nothing.
  std::optional<AttemptClaim> Peek(std::string_view alert_id, uint32_t attempt) {
    std::lock_guard lock(mutex_);
    auto it = records_.find(Key(alert_id, attempt));
    if (it == records_.end()) return std::nullopt;
    return it->second.claim;
  }

  // Leaves a claim of `owner` with no outcome, as a worker that died mid-send would.
  void AbandonClaim(std::string_view alert_id, uint32_t attempt, std::string_view owner,
                    absl::Time claimed_at) {
    std::lock_guard lock(mutex_);
    records_[Key(alert_id, attempt)] = {
        .owner = std::string(owner),
        .claim = {.state = AttemptClaim::State::kInProgress, .claimed_at = claimed_at}};
  }

  // Every operation fails with `status` (OK restores normal behaviour).
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }
  void FailNextRecordOutcome(absl::Status status) {
    std::lock_guard lock(mutex_);
    next_record_failure_ = std::move(status);
  }
  void FailNextMarkUnsettled(absl::Status status) {
    std::lock_guard lock(mutex_);
    next_mark_failure_ = std::move(status);
  }
  void FailNextRelease(absl::Status status) {
    std::lock_guard lock(mutex_);
    next_release_failure_ = std::move(status);
  }

 private:
  struct Record {
    std::string owner;
    AttemptClaim claim;
  };

  static std::string Key(std::string_view alert_id, uint32_t attempt) {
    return std::string(alert_id) + "#" + std::to_string(attempt);
  }

  // The failure to report now, if any: the standing one, else the one-shot `next`.
  absl::Status TakeFailure(absl::Status& next) {
    if (!status_.ok()) return status_;
    return std::exchange(next, absl::OkStatus());
  }

  std::mutex mutex_;
  absl::Status status_;
  absl::Status next_record_failure_;
  absl::Status next_mark_failure_;
  absl::Status next_release_failure_;
  std::map<std::string, Record> records_;
};

}  // namespace klaxon::delivery
