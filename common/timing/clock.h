#pragma once
// Time for code that waits or stamps: a port so that tests run waits on a simulated clock
// instead of sleeping (STYLE.md: time is injected).

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace klaxon::timing {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration duration) = 0;
};

// The wall clock and a real sleep.
class RealClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override { absl::SleepFor(duration); }
};

}  // namespace klaxon::timing
