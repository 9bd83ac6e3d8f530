#pragma once
// Which of a stream of log lines to write when whoever causes them decides how many there are
// (refused webhooks, refused SendAlerts): a burst, then a steady rate (a token bucket). Each line
// written can say how many were left out before it, so nothing is hidden, only counted. The
// metrics beside the lines count every event.

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/time/time.h"
#include "common/timing/clock.h"

namespace klaxon::log {

struct SamplingLimits {
  double lines_per_second = 5;
  double burst = 20;
};

class LineSampler {
 public:
  LineSampler(timing::Clock& clock, SamplingLimits limits)
      : clock_(clock), limits_(limits), tokens_(limits.burst), refilled_(clock.Now()) {}

  // Whether to write the next line: how many lines were left out since the last one written,
  // or nullopt to leave this one out too. Safe to call from several threads.
  std::optional<int64_t> Admit() {
    const absl::Time now = clock_.Now();
    std::lock_guard lock(mutex_);
    const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - refilled_));
    tokens_ = std::min(limits_.burst, tokens_ + elapsed * limits_.lines_per_second);
    refilled_ = now;
    if (tokens_ < 1.0) {
      ++left_out_;
      return std::nullopt;
    }
    tokens_ -= 1.0;
    return std::exchange(left_out_, 0);
  }

 private:
  timing::Clock& clock_;
  const SamplingLimits limits_;
  std::mutex mutex_;
  double tokens_;         // guarded by mutex_
  absl::Time refilled_;   // guarded by mutex_
  int64_t left_out_ = 0;  // guarded by mutex_
};

}  // namespace klaxon::log
