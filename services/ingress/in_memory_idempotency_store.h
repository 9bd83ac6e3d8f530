#pragma once
// IdempotencyStore in process memory, for unit tests of the intake logic. It ignores the window;
// expiry is covered by RedisIdempotencyStore's integration test.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

class InMemoryIdempotencyStore final : public IdempotencyStore {
 public:
  absl::StatusOr<IdempotencyRecord> Reserve(std::string_view caller, std::string_view key,
                                            const IdempotencyRecord& candidate,
                                            absl::Duration) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    return records_.try_emplace(Key(caller, key), candidate).first->second;
  }

  absl::Status MarkPublished(std::string_view caller, std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = records_.find(Key(caller, key));
    if (it != records_.end()) it->second.published = true;
    return absl::OkStatus();
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
};

}  // namespace klaxon::ingress
