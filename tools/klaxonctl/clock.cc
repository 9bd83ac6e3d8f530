#include "tools/klaxonctl/clock.h"

#include "absl/time/clock.h"

namespace klaxon::ctl {

absl::Time RealClock::Now() { return absl::Now(); }

void RealClock::SleepFor(absl::Duration duration) { absl::SleepFor(duration); }

}  // namespace klaxon::ctl
