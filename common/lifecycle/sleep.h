#pragma once
// A sleep a stop request cuts short, for the loops of threads that must end promptly.

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "absl/time/time.h"

namespace klaxon::lifecycle {

// Sleeps for `delay` unless `stop` fires first; false when it did.
inline bool SleepUnlessStopped(absl::Duration delay, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, absl::ToChronoNanoseconds(delay), [] { return false; });
  return !stop.stop_requested();
}

}  // namespace klaxon::lifecycle
