#pragma once
// AttemptLedger in process memory, for unit tests of the dispatcher.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/delivery/attempt_ledger.h"

namespace klaxon::delivery {

class InMemoryAttemptLedger final : public AttemptLedger {
 public:
  absl::StatusOr<AttemptClaim> Claim(std::string_view alert_id, uint32_t attempt,
                                     absl::Time now) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto [it, claimed] = claims_.try_emplace(
        Key(alert_id, attempt),
        AttemptClaim{.state = AttemptClaim::State::kInProgress, .claimed_at = now});
    if (claimed) return AttemptClaim{};
    return it->second;
  }

  absl::Status RecordOutcome(std::string_view alert_id, uint32_t attempt,
                             const events::v1::DeliveryOutcome& outcome) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    claims_[Key(alert_id, attempt)] =
        AttemptClaim{.state = AttemptClaim::State::kDone, .outcome = outcome};
    return absl::OkStatus();
  }

  absl::Status Release(std::string_view alert_id, uint32_t attempt) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    claims_.erase(Key(alert_id, attempt));
    return absl::OkStatus();
  }

  // Leaves a claim with no outcome, as a worker that died mid-send would.
  void AbandonClaim(std::string_view alert_id, uint32_t attempt, absl::Time claimed_at) {
    std::lock_guard lock(mutex_);
    claims_[Key(alert_id, attempt)] =
        AttemptClaim{.state = AttemptClaim::State::kInProgress, .claimed_at = claimed_at};
  }

  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  static std::string Key(std::string_view alert_id, uint32_t attempt) {
    return std::string(alert_id) + "#" + std::to_string(attempt);
  }

  std::mutex mutex_;
  absl::Status status_;
  std::map<std::string, AttemptClaim> claims_;
};

}  // namespace klaxon::delivery
