#pragma once
// Time for code that waits: GetAlert polls the store for a bounded time. Injected so tests run
// the waits on a simulated clock instead of sleeping.

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace klaxon::audit {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration duration) = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepFor(absl::Duration duration) override { absl::SleepFor(duration); }
};

}  // namespace klaxon::audit
