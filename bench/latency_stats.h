// What a load run measured: the latency of every successful call, kept exactly (a run holds at
// most a few million samples), and the failed calls counted by status code.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"

namespace klaxon::bench {

struct LatencySummary {
  int64_t count = 0;
  std::chrono::nanoseconds p50{0};
  std::chrono::nanoseconds p90{0};
  std::chrono::nanoseconds p99{0};
  std::chrono::nanoseconds max{0};
};

// The nearest-rank percentile (the smallest sample with at least `percent` of the samples at or
// below it) of samples sorted in ascending order; zero for no samples. percent is in (0, 100].
std::chrono::nanoseconds Percentile(const std::vector<std::chrono::nanoseconds>& sorted,
                                    double percent);

// Not thread-safe: the load runner records under its own lock.
class LatencyRecorder {
 public:
  void RecordSuccess(std::chrono::nanoseconds latency);
  void RecordError(absl::StatusCode code);

  LatencySummary Summarize() const;
  int64_t successes() const { return static_cast<int64_t>(latencies_.size()); }
  const std::map<absl::StatusCode, int64_t>& errors() const { return errors_; }

 private:
  std::vector<std::chrono::nanoseconds> latencies_;
  std::map<absl::StatusCode, int64_t> errors_;
};

}  // namespace klaxon::bench
