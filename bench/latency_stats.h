// What a load run measured: the latency of every successful call, kept exactly (a run holds at
// most a few million samples), and the failed calls counted by what went wrong (a gRPC status
// code, an HTTP status, a transport error).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace klaxon::bench {

struct LatencySummary {
  int64_t count = 0;
  std::chrono::nanoseconds p50{0};
  std::chrono::nanoseconds p90{0};
  std::chrono::nanoseconds p99{0};
  std::chrono::nanoseconds p999{0};  // the 99.9th percentile
  std::chrono::nanoseconds max{0};
};

// Failed calls by kind, e.g. {"UNAVAILABLE": 3} or {"HTTP 503": 2, "timeout": 1}.
using ErrorCounts = std::map<std::string, int64_t, std::less<>>;

// The nearest-rank percentile (the smallest sample with at least `percent` of the samples at or
// below it) of samples sorted in ascending order; zero for no samples. percent is in (0, 100].
std::chrono::nanoseconds Percentile(const std::vector<std::chrono::nanoseconds>& sorted,
                                    double percent);

// Not thread-safe: the load runner records under its own lock.
class LatencyRecorder {
 public:
  void RecordSuccess(std::chrono::nanoseconds latency);
  void RecordError(std::string_view kind);

  LatencySummary Summarize() const;
  int64_t successes() const { return static_cast<int64_t>(latencies_.size()); }
  const ErrorCounts& errors() const { return errors_; }

 private:
  std::vector<std::chrono::nanoseconds> latencies_;
  ErrorCounts errors_;
};

}  // namespace klaxon::bench
