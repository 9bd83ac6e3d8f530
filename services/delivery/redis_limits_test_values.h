#pragma once
// What the Redis send-limit tests (the limiter's and the gate's, in one test binary) share: the
// recipient and the paced sender they use, and how far an expected time may be off, since the
// scripts run on Redis's clock while the test itself takes real time.

#include "absl/time/time.h"

namespace klaxon::delivery::redis_limits_test {

inline constexpr char kAlice[] = "+14155550101";
inline constexpr char kSender[] = "+14155552671";
inline constexpr absl::Duration kTolerance = absl::Milliseconds(250);

}  // namespace klaxon::delivery::redis_limits_test
