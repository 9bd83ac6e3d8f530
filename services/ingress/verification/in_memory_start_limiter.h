#pragma once
// StartLimiter in one process's memory, for unit tests of code that uses the port. It keeps the
// same sliding windows as RedisStartLimiter on the injected clock (Redis's own clock there): a
// start at t counts in a window w until t + w, a refusal records nothing, and a start is
// forgotten once it has left the longest window.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/timing/clock.h"
#include "services/ingress/verification/start_limiter.h"

namespace klaxon::ingress::verification {

class InMemoryStartLimiter final : public StartLimiter {
 public:
  explicit InMemoryStartLimiter(timing::Clock& clock) : clock_(clock) {}

  absl::StatusOr<std::optional<FullWindow>> Take(const std::vector<KeyedRates>& limits,
                                                 std::string_view member) override {
    const absl::Time now = clock_.Now();
    std::lock_guard lock(mutex_);
    for (size_t limit = 0; limit < limits.size(); ++limit) {
      const std::vector<Start>& starts = starts_[limits[limit].key];
      for (const limits::Rate& rate : limits[limit].rates) {
        std::vector<absl::Time> in_window;
        for (const Start& start : starts) {
          if (start.at > now - rate.window) in_window.push_back(start.at);
        }
        if (std::ssize(in_window) < rate.count) continue;
        // The start whose leaving brings the window under its limit: the oldest, unless the
        // limit was lowered since the window filled.
        std::sort(in_window.begin(), in_window.end());
        const absl::Time leaving = in_window[in_window.size() - static_cast<size_t>(rate.count)];
        return FullWindow{.limit = limit, .rate = rate, .retry_after = leaving + rate.window - now};
      }
    }
    for (const KeyedRates& keyed : limits) {
      if (keyed.rates.empty()) continue;
      absl::Duration longest;
      for (const limits::Rate& rate : keyed.rates) longest = std::max(longest, rate.window);
      std::vector<Start>& starts = starts_[keyed.key];
      // A member starts once: recording it again moves it, as ZADD does.
      std::erase_if(starts, [&](const Start& start) { return start.member == member; });
      starts.push_back({.at = now, .member = std::string(member)});
      std::erase_if(starts, [&](const Start& start) { return start.at <= now - longest; });
    }
    return std::nullopt;
  }

 private:
  struct Start {
    absl::Time at;
    std::string member;
  };

  timing::Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Start>> starts_;  // by key
};

}  // namespace klaxon::ingress::verification
