#pragma once
// VerificationStore in process memory, for unit tests of the verification logic. It decides as
// RedisVerificationStore does, on the `now` each call passes, but keeps every verification for
// the life of the object: forget_at is not enforced, since only Redis drops keys on its own (its
// integration test covers the time to live).

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "services/ingress/verification/verification_store.h"

namespace klaxon::ingress::verification {

class InMemoryVerificationStore final : public VerificationStore {
 public:
  absl::StatusOr<StartedSend> StartOrResend(const Verification& fresh, absl::Time now) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    std::string& pending_id = pending_[{fresh.caller, fresh.recipient_index}];
    if (auto it = verifications_.find(pending_id); it != verifications_.end()) {
      Verification& pending = it->second;
      if (pending.state == VerificationState::kPending && pending.expires_at > now) {
        ++pending.sends;
        std::string previous = std::exchange(pending.alert_id, fresh.alert_id);
        return StartedSend{.verification = pending, .previous_alert_id = std::move(previous)};
      }
    }
    Verification kept = fresh;
    kept.sends = 1;
    kept.state = VerificationState::kPending;
    pending_id = kept.id;
    verifications_[kept.id] = kept;
    return StartedSend{.verification = kept};
  }

  absl::StatusOr<std::optional<Verification>> Find(std::string_view caller,
                                                   std::string_view id) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    const Verification* verification = Owned(caller, id);
    if (verification == nullptr) return std::nullopt;
    return *verification;
  }

  absl::StatusOr<std::optional<std::string>> FindPending(
      std::string_view caller, std::string_view recipient_index) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = pending_.find({std::string(caller), std::string(recipient_index)});
    if (it == pending_.end()) return std::nullopt;
    return it->second;
  }

  absl::StatusOr<std::optional<CountedCheck>> CountCheck(std::string_view caller,
                                                         std::string_view id, int max_checks,
                                                         absl::Time now) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    Verification* verification = Owned(caller, id);
    if (verification == nullptr) return std::nullopt;
    const bool counted = verification->state == VerificationState::kPending &&
                         now < verification->expires_at && verification->checks < max_checks;
    if (counted) ++verification->checks;
    return CountedCheck{.verification = *verification, .counted = counted};
  }

  absl::StatusOr<bool> ReplaceAlert(std::string_view caller, std::string_view id,
                                    std::string_view from, std::string_view to) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    Verification* verification = Owned(caller, id);
    if (verification == nullptr || verification->alert_id != from) return false;
    verification->alert_id = std::string(to);
    return true;
  }

  absl::StatusOr<bool> Finish(std::string_view caller, std::string_view id,
                              VerificationState to) override {
    if (to == VerificationState::kPending) {
      return absl::InvalidArgumentError("a verification can only finish approved or cancelled");
    }
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    Verification* verification = Owned(caller, id);
    if (verification == nullptr || verification->state != VerificationState::kPending) {
      return false;
    }
    verification->state = to;
    auto pending = pending_.find({verification->caller, verification->recipient_index});
    if (pending != pending_.end() && pending->second == verification->id) pending_.erase(pending);
    return true;
  }

  // Every later call answers `status` (kUnavailable: the store is down) until it is OK again.
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  // The caller's verification `id`, or null.
  Verification* Owned(std::string_view caller, std::string_view id) {
    auto it = verifications_.find(std::string(id));
    if (it == verifications_.end() || it->second.caller != caller) return nullptr;
    return &it->second;
  }

  std::mutex mutex_;
  absl::Status status_;
  std::map<std::string, Verification> verifications_;  // by id
  // The pending verification's id by caller and recipient index.
  std::map<std::pair<std::string, std::string>, std::string> pending_;
};

}  // namespace klaxon::ingress::verification
