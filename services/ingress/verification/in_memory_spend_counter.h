#pragma once
// SpendCounter in one process's memory, for unit tests of code that uses the port: the same
// rule as RedisSpendCounter (a spend that would pass the cap counts nothing). It keeps every key.

#include <map>
#include <mutex>
#include <string>

#include "services/ingress/verification/daily_spend.h"

namespace klaxon::ingress::verification {

class InMemorySpendCounter final : public SpendCounter {
 public:
  absl::StatusOr<bool> Spend(std::string_view key, Micros amount, Micros cap, absl::Time) override {
    std::lock_guard lock(mutex_);
    Micros& spent = spent_[std::string(key)];
    if (spent + amount > cap) return false;
    spent += amount;
    return true;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Micros> spent_;
};

}  // namespace klaxon::ingress::verification
