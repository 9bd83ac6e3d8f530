#pragma once
// What the Dispatcher and the StatusChecker both read off an AlertRequested: when the alert runs
// out, and how one of its attempts is named in errors.

#include <string>

#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

// The alert's deadline; the infinite future for an alert without one.
absl::Time DeadlineOf(const events::v1::AlertRequested& request);

// "attempt 2 of alert a1".
std::string AttemptName(const events::v1::AlertRequested& request);

}  // namespace klaxon::delivery
