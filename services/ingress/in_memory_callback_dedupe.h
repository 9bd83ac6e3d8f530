#pragma once
// CallbackDedupe in process memory, for unit tests of the webhook handler. Leases and windows
// are not timed out here; RedisCallbackDedupe's integration test covers expiry.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class InMemoryCallbackDedupe final : public CallbackDedupe {
 public:
  std::vector<absl::StatusOr<DedupeClaim>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                 absl::Duration) override {
    std::lock_guard lock(mutex_);
    ++claim_calls_;
    std::vector<absl::StatusOr<DedupeClaim>> claims;
    for (const DedupeKeys& keys : callbacks) {
      claims.push_back(error_.ok() ? ClaimOne(keys) : absl::StatusOr<DedupeClaim>(error_));
    }
    return claims;
  }
  std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                          absl::Duration window) override {
    std::lock_guard lock(mutex_);
    if (!mark_error_.ok()) return std::vector<absl::Status>(callbacks.size(), mark_error_);
    for (const DedupeKeys& keys : callbacks) {
      for (const std::string& key : keys) {
        states_[key] = kPublishedState;
        windows_[key] = window;
      }
    }
    return std::vector<absl::Status>(callbacks.size());
  }
  std::vector<absl::Status> Release(const std::vector<DedupeKeys>& callbacks) override {
    std::lock_guard lock(mutex_);
    for (const DedupeKeys& keys : callbacks) {
      for (const std::string& key : keys) {
        auto it = states_.find(key);
        if (it != states_.end() && it->second == kClaimedState) states_.erase(it);
      }
    }
    return std::vector<absl::Status>(callbacks.size());
  }

  // Makes every Claim fail with `error` (OK restores).
  void FailWith(absl::Status error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }
  // Makes every MarkPublished fail with `error` (OK restores).
  void FailMarksWith(absl::Status error) {
    std::lock_guard lock(mutex_);
    mark_error_ = std::move(error);
  }
  bool IsPublished(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = states_.find(key);
    return it != states_.end() && it->second == kPublishedState;
  }
  // The window `key` was last marked published for; zero if never.
  absl::Duration WindowOf(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = windows_.find(key);
    return it == windows_.end() ? absl::ZeroDuration() : it->second;
  }
  bool Has(const std::string& key) {
    std::lock_guard lock(mutex_);
    return states_.contains(key);
  }
  // How many times Claim was called (a batch counts once).
  int claim_calls() {
    std::lock_guard lock(mutex_);
    return claim_calls_;
  }

 private:
  static constexpr int kClaimedState = 1;
  static constexpr int kPublishedState = 2;

  // With mutex_ held.
  DedupeClaim ClaimOne(const DedupeKeys& keys) {
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

  std::mutex mutex_;
  std::map<std::string, int> states_;
  std::map<std::string, absl::Duration> windows_;
  absl::Status error_;
  absl::Status mark_error_;
  int claim_calls_ = 0;
};

}  // namespace klaxon::ingress
