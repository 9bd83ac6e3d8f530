#pragma once
// IdempotencyStore in process memory, for unit tests of the intake logic. It keeps the last window
// asked for but expires nothing; expiry is covered by RedisIdempotencyStore's integration test.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

class InMemoryIdempotencyStore final : public IdempotencyStore {
 public:
  absl::StatusOr<IdempotencyRecord> Reserve(std::string_view caller, std::string_view key,
                                            const IdempotencyRecord& candidate,
                                            absl::Duration window) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    last_window_ = window;
    auto [it, created] = records_.try_emplace(Key(caller, key), candidate);
    if (created) {
      owners_[candidate.alert_id] = {
          .caller = std::string(caller), .channel = candidate.channel, .chain = candidate.chain};
    }
    return it->second;
  }

  absl::StatusOr<std::optional<IdempotencyRecord>> Find(std::string_view caller,
                                                        std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = records_.find(Key(caller, key));
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }

  absl::Status MarkPublished(std::string_view caller, std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = records_.find(Key(caller, key));
    if (it != records_.end()) it->second.published = true;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<AlertOwner>> FindOwner(std::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = owners_.find(std::string(alert_id));
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }

  absl::Duration last_window() {
    std::lock_guard lock(mutex_);
    return last_window_;
  }

  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  static std::string Key(std::string_view caller, std::string_view key) {
    return std::string(caller) + "\n" + std::string(key);
  }

  std::mutex mutex_;
  absl::Status status_;
  std::map<std::string, IdempotencyRecord> records_;
  std::map<std::string, AlertOwner> owners_;  // by alert_id
  absl::Duration last_window_;
};

}  // namespace klaxon::ingress
