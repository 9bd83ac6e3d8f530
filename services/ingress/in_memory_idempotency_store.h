#pragma once
// IdempotencyStore in process memory, for unit tests of the intake logic. It keeps the last window
// asked for but expires nothing; expiry is covered by RedisIdempotencyStore's integration test.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

class InMemoryIdempotencyStore final : public IdempotencyStore {
 public:
  std::vector<absl::StatusOr<IdempotencyRecord>> ReserveAll(
      std::span<const NewRecord> records) override {
    std::lock_guard lock(mutex_);
    ++reserve_calls_;
    std::vector<absl::StatusOr<IdempotencyRecord>> answers;
    for (const NewRecord& record : records) {
      if (!status_.ok()) {
        answers.emplace_back(status_);
        continue;
      }
      last_window_ = record.window;
      windows_[Key(record.caller, record.key)] = record.window;
      auto [it, created] = records_.try_emplace(Key(record.caller, record.key), record.candidate);
      if (created) {
        owners_[record.candidate.alert_id] = {.caller = std::string(record.caller),
                                              .channel = record.candidate.channel,
                                              .chain = record.candidate.chain};
      }
      answers.emplace_back(it->second);
    }
    return answers;
  }

  absl::StatusOr<std::optional<IdempotencyRecord>> Find(std::string_view caller,
                                                        std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = records_.find(Key(caller, key));
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<absl::Status> MarkAllPublished(std::span<const RecordKey> keys) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return std::vector<absl::Status>(keys.size(), status_);
    for (const RecordKey& key : keys) {
      auto it = records_.find(Key(key.caller, key.key));
      if (it != records_.end()) it->second.published = true;
    }
    return std::vector<absl::Status>(keys.size(), absl::OkStatus());
  }

  absl::StatusOr<std::optional<AlertOwner>> FindOwner(std::string_view alert_id) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = owners_.find(std::string(alert_id));
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }

  // How many times ReserveAll was asked: a round trip each, for a store on a server.
  int reserve_calls() {
    std::lock_guard lock(mutex_);
    return reserve_calls_;
  }

  absl::Duration last_window() {
    std::lock_guard lock(mutex_);
    return last_window_;
  }
  // The window the record of `key` was last asked for with.
  absl::Duration window_of(std::string_view caller, std::string_view key) {
    std::lock_guard lock(mutex_);
    return windows_[Key(caller, key)];
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
  std::map<std::string, absl::Duration> windows_;  // by Key()
  int reserve_calls_ = 0;
};

}  // namespace klaxon::ingress
