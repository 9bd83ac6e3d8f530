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
  absl::StatusOr<DedupeClaim> Claim(const DedupeKeys& keys, absl::Duration) override {
    std::lock_guard lock(mutex_);
    if (!error_.ok()) return error_;
    bool in_flight = false;
    for (const std::string& key : keys) {
      auto it = states_.find(key);
      if (it == states_.end()) continue;
      if (it->second == kPublishedState) return DedupeClaim::kAlreadyPublished;
      in_flight = true;
    }
    if (in_flight) return DedupeClaim::kInFlight;
    for (const std::string& key : keys) states_[key] = kClaimedState;
    return DedupeClaim::kClaimed;
  }
  absl::Status MarkPublished(const DedupeKeys& keys, absl::Duration) override {
    std::lock_guard lock(mutex_);
    for (const std::string& key : keys) states_[key] = kPublishedState;
    return absl::OkStatus();
  }
  absl::Status Release(const DedupeKeys& keys) override {
    std::lock_guard lock(mutex_);
    for (const std::string& key : keys) {
      auto it = states_.find(key);
      if (it != states_.end() && it->second == kClaimedState) states_.erase(it);
    }
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
