// The passage of time as klaxonctl's polling loop sees it. Waiting sits behind this port so that
// tests drive `get --wait-for` with a fake clock instead of sleeping.
#pragma once

#include "absl/time/time.h"

namespace klaxon::ctl {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration duration) = 0;
};

// The wall clock and a real sleep.
class RealClock final : public Clock {
 public:
  absl::Time Now() override;
  void SleepFor(absl::Duration duration) override;
};

}  // namespace klaxon::ctl
