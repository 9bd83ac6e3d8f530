#pragma once
// CallbackDedupe in process memory, for unit tests of the webhook handler, held to the same
// contract as RedisCallbackDedupe (testing/callback_dedupe_contract.h). Leases and windows are not
// timed out here: EndLeases() ends every claim's at once; RedisCallbackDedupe's integration test
// covers expiry.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/ids/id_generator.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress {

class InMemoryCallbackDedupe final : public CallbackDedupe {
 public:
  std::vector<absl::StatusOr<ClaimAnswer>> Claim(const std::vector<DedupeKeys>& callbacks,
                                                 absl::Duration) override {
    std::lock_guard lock(mutex_);
    ++claim_calls_;
    std::vector<absl::StatusOr<ClaimAnswer>> answers;
    for (const DedupeKeys& keys : callbacks) {
      answers.push_back(error_.ok() ? ClaimOne(keys) : absl::StatusOr<ClaimAnswer>(error_));
    }
    return answers;
  }
  std::vector<absl::Status> MarkPublished(const std::vector<DedupeKeys>& callbacks,
                                          absl::Duration window) override {
    std::lock_guard lock(mutex_);
    if (!mark_error_.ok()) return std::vector<absl::Status>(callbacks.size(), mark_error_);
    for (const DedupeKeys& keys : callbacks) {
      for (const std::string& key : keys) {
        states_[key] = kPublished;
        windows_[key] = window;
      }
    }
    return std::vector<absl::Status>(callbacks.size());
  }
  std::vector<absl::Status> Release(const std::vector<HeldClaim>& claims) override {
    std::lock_guard lock(mutex_);
    for (const HeldClaim& claim : claims) {
      for (const std::string& key : claim.keys) {
        auto it = states_.find(key);
        if (it != states_.end() && it->second == claim.token) states_.erase(it);
      }
    }
    return std::vector<absl::Status>(claims.size());
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
  // As if every claim's lease ran out now: drops the claims, keeps what is published.
  void EndLeases() {
    std::lock_guard lock(mutex_);
    std::erase_if(states_, [](const auto& state) { return state.second != kPublished; });
  }
  bool IsPublished(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = states_.find(key);
    return it != states_.end() && it->second == kPublished;
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
  // A key's state when published; a claimed key holds its claim's token ("claim-1", ...).
  static constexpr char kPublished[] = "published";

  // With mutex_ held.
  absl::StatusOr<ClaimAnswer> ClaimOne(const DedupeKeys& keys) {
    if (keys.empty()) return absl::InvalidArgumentError("a callback needs at least one dedupe key");
    bool in_flight = false;
    for (const std::string& key : keys) {
      auto it = states_.find(key);
      if (it == states_.end()) continue;
      if (it->second == kPublished) return ClaimAnswer{.outcome = DedupeClaim::kAlreadyPublished};
      in_flight = true;
    }
    if (in_flight) return ClaimAnswer{.outcome = DedupeClaim::kInFlight};
    std::string token = claim_tokens_.Next();
    for (const std::string& key : keys) states_[key] = token;
    return ClaimAnswer{.outcome = DedupeClaim::kClaimed, .token = std::move(token)};
  }

  std::mutex mutex_;
  ids::CountingIdGenerator claim_tokens_{"claim-"};
  std::map<std::string, std::string> states_;
  std::map<std::string, absl::Duration> windows_;
  absl::Status error_;
  absl::Status mark_error_;
  int claim_calls_ = 0;
};

}  // namespace klaxon::ingress
