// The open-loop schedule of a load run: request i is due at start + i / rate, whatever happened to
// the requests before it. Latency is then measured from that due time, so a slow server cannot
// slow the generator down and hide its own queueing (no coordinated omission).
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/status/statusor.h"

namespace klaxon::bench {

class OpenLoopSchedule {
 public:
  // rate_per_second and duration must be positive and give at least one request.
  static absl::StatusOr<OpenLoopSchedule> Create(double rate_per_second,
                                                 std::chrono::nanoseconds duration);

  // How many requests the run sends: every i with i / rate < duration.
  int64_t size() const { return size_; }

  // When request `index` is due, relative to the start. Computed from the index, not by adding
  // intervals, so rounding never accumulates into drift.
  std::chrono::nanoseconds OffsetOf(int64_t index) const;

 private:
  OpenLoopSchedule(double rate_per_second, int64_t size)
      : rate_per_second_(rate_per_second), size_(size) {}

  double rate_per_second_;
  int64_t size_;
};

}  // namespace klaxon::bench
