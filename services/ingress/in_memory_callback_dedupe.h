#pragma once
// CallbackDedupe in process memory, for unit tests of the webhook handler. Leases and windows
// are not timed out here; RedisCallbackDedupe's integration test covers expiry.

#include <map>
#include <mutex>
#include <string>

#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class InMemoryCallbackDedupe final : public CallbackDedupe {
 public:
  absl::StatusOr<DedupeClaim> Claim(std::string_view key, absl::Duration) override {
    std::lock_guard lock(mutex_);
    if (!error_.ok()) return error_;
    auto [it, inserted] = states_.emplace(std::string(key), kClaimedState);
    if (inserted) return DedupeClaim::kClaimed;
    return it->second == kPublishedState ? DedupeClaim::kAlreadyPublished : DedupeClaim::kInFlight;
  }
  absl::Status MarkPublished(std::string_view key, absl::Duration) override {
    std::lock_guard lock(mutex_);
    states_[std::string(key)] = kPublishedState;
    return absl::OkStatus();
  }
  absl::Status Release(std::string_view key) override {
    std::lock_guard lock(mutex_);
    auto it = states_.find(std::string(key));
    if (it != states_.end() && it->second == kClaimedState) states_.erase(it);
    return absl::OkStatus();
  }

  // Makes every Claim fail with `error` (OK restores).
  void FailWith(absl::Status error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }
  bool IsPublished(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = states_.find(key);
    return it != states_.end() && it->second == kPublishedState;
  }
  bool Has(const std::string& key) {
    std::lock_guard lock(mutex_);
    return states_.contains(key);
  }

 private:
  static constexpr int kClaimedState = 1;
  static constexpr int kPublishedState = 2;
  std::mutex mutex_;
  std::map<std::string, int> states_;
  absl::Status error_;
};

}  // namespace klaxon::ingress
