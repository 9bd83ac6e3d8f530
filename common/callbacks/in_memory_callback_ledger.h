#pragma once
// CallbackLedger in process memory, for unit tests of ingress and the dispatcher.
// RedisCallbackLedger's integration test covers expiry and the latest-time rule across clients.

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/callbacks/callback_ledger.h"

namespace klaxon::callbacks {

class InMemoryCallbackLedger final : public CallbackLedger {
 public:
  std::vector<absl::Status> RecordFinal(const std::vector<std::string>& sids) override {
    std::lock_guard lock(mutex_);
    if (error_.ok()) finals_.insert(sids.begin(), sids.end());
    return std::vector<absl::Status>(sids.size(), error_);
  }
  absl::Status RecordLoss(absl::Time at) override {
    std::lock_guard lock(mutex_);
    if (!error_.ok()) return error_;
    lost_at_ = lost_at_ ? std::max(*lost_at_, at) : at;
    return absl::OkStatus();
  }
  absl::StatusOr<CallbackRecord> Read(std::string_view sid) override {
    std::lock_guard lock(mutex_);
    if (!error_.ok()) return error_;
    return CallbackRecord{.final_arrived = finals_.contains(sid), .lost_at = lost_at_};
  }

  // Makes every call fail with `error` (OK restores).
  void FailWith(absl::Status error) {
    std::lock_guard lock(mutex_);
    error_ = std::move(error);
  }

 private:
  std::mutex mutex_;
  absl::Status error_;
  std::set<std::string, std::less<>> finals_;
  std::optional<absl::Time> lost_at_;
};

}  // namespace klaxon::callbacks
