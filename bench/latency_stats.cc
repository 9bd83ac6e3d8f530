#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace klaxon::bench {

std::chrono::nanoseconds Percentile(const std::vector<std::chrono::nanoseconds>& sorted,
                                    double percent) {
  if (sorted.empty()) return std::chrono::nanoseconds::zero();
  // The tolerance keeps 99.9% of 2000 samples at rank 1998 although 99.9 / 100 * 2000 comes out
  // a hair above 1998 in binary floating point.
  const double rank = std::ceil(percent / 100.0 * static_cast<double>(sorted.size()) - 1e-9);
  const auto index = static_cast<std::size_t>(std::max(rank, 1.0)) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

void LatencyRecorder::RecordSuccess(std::chrono::nanoseconds latency) {
  latencies_.push_back(latency);
}

void LatencyRecorder::RecordError(std::string_view kind) {
  auto entry = errors_.find(kind);
  if (entry == errors_.end()) entry = errors_.emplace(std::string(kind), 0).first;
  ++entry->second;
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<std::chrono::nanoseconds> sorted = latencies_;
  std::sort(sorted.begin(), sorted.end());
  return LatencySummary{
      .count = static_cast<int64_t>(sorted.size()),
      .p50 = Percentile(sorted, 50),
      .p90 = Percentile(sorted, 90),
      .p99 = Percentile(sorted, 99),
      .p999 = Percentile(sorted, 99.9),
      .max = sorted.empty() ? std::chrono::nanoseconds::zero() : sorted.back(),
  };
}

}  // namespace klaxon::bench
