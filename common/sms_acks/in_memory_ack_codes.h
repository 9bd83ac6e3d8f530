#pragma once
// AckCodes in process memory, for unit tests of what binds or reads codes. Bind's quarantine is
// kept against the `now` a test sets; a failure can be injected for every call.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/sms_acks/ack_codes.h"

namespace klaxon::sms_acks {

class InMemoryAckCodes final : public AckCodes {
 public:
  absl::StatusOr<bool> Bind(std::string_view recipient, std::string_view code,
                            const AckTarget& target, absl::Time until) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto [it, inserted] = bound_.try_emplace(Key(recipient, code), Bound{target, until});
    if (!inserted && it->second.until + kQuarantine <= now_) {
      it->second = Bound{target, until};
      inserted = true;
    }
    return inserted;
  }

  absl::StatusOr<std::optional<AckTarget>> Find(std::string_view recipient, std::string_view code,
                                                absl::Time now) override {
    std::lock_guard lock(mutex_);
    if (!status_.ok()) return status_;
    auto it = bound_.find(Key(recipient, code));
    if (it == bound_.end() || it->second.until <= now) return std::nullopt;
    return it->second.target;
  }

  void SetNow(absl::Time now) {
    std::lock_guard lock(mutex_);
    now_ = now;
  }

  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

 private:
  struct Bound {
    AckTarget target;
    absl::Time until;
  };
  static std::string Key(std::string_view recipient, std::string_view code) {
    return std::string(recipient) + " " + std::string(code);
  }

  std::mutex mutex_;
  absl::Status status_;
  absl::Time now_ = absl::UnixEpoch();
  std::map<std::string, Bound> bound_;
};

}  // namespace klaxon::sms_acks
