#include "bench/schedule.h"

#include <cmath>

#include "absl/status/status.h"

namespace klaxon::bench {
namespace {

// Beyond this the generator's own sleeps and bookkeeping dominate what it measures.
constexpr double kMaxRatePerSecond = 1'000'000;

}  // namespace

absl::StatusOr<OpenLoopSchedule> OpenLoopSchedule::Create(double rate_per_second,
                                                          std::chrono::nanoseconds duration) {
  if (!(rate_per_second > 0) || rate_per_second > kMaxRatePerSecond) {
    return absl::InvalidArgumentError("rate must be more than 0 and at most 1000000 per second");
  }
  if (duration <= std::chrono::nanoseconds::zero()) {
    return absl::InvalidArgumentError("duration must be positive");
  }
  const double seconds = std::chrono::duration<double>(duration).count();
  // The tolerance keeps 100/s for 10 s at exactly 1000 requests despite binary rounding.
  const auto size = static_cast<int64_t>(std::ceil(rate_per_second * seconds - 1e-9));
  if (size < 1) {
    return absl::InvalidArgumentError("rate and duration give no request at all");
  }
  return OpenLoopSchedule(rate_per_second, size);
}

std::chrono::nanoseconds OpenLoopSchedule::OffsetOf(int64_t index) const {
  const long double nanos =
      static_cast<long double>(index) * 1e9L / static_cast<long double>(rate_per_second_);
  return std::chrono::nanoseconds(std::llround(nanos));
}

}  // namespace klaxon::bench
