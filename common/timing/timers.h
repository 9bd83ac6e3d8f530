#pragma once
// Port: runs a task at a given time without a thread waiting for it, for work that holds a
// message until it is due (a retry tier's not_before, ADR 0007) on a callback-style consumer
// (ADR 0017). concurrency::TimerThread is the real one; ManualTimers (manual_timers.h) the fake.

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace klaxon::timing {

// Called exactly once: with true at its time (or soon after), with false when the timers stop
// first. It runs on the timers' own thread, so it must hand blocking work elsewhere.
using TimerTask = absl::AnyInvocable<void(bool due) &&>;

class Timers {
 public:
  virtual ~Timers() = default;
  virtual void At(absl::Time when, TimerTask task) = 0;
};

}  // namespace klaxon::timing
