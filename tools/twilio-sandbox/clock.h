#pragma once
// The sandbox's source of wall-clock time (date_created, received_at ...), injected so tests
// can pin timestamps. Delays between callbacks use a steady clock inside CallbackScheduler.

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace klaxon::sandbox {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

}  // namespace klaxon::sandbox
