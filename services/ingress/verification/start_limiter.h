#pragma once
// Port: how often verifications may be started, per key (a recipient's blind index, a number
// prefix, a caller), over several sliding windows at once ("5/1h,20/24h"). Shared by every
// ingress replica.

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/limits/rate.h"

namespace klaxon::ingress::verification {

// Why a start does not fit: which window is full and when it next has room.
struct FullWindow {
  limits::Rate rate;
  absl::Duration retry_after;
};

class StartLimiter {
 public:
  virtual ~StartLimiter() = default;
  // Counts one start for `key` when every window in `rates` has room, and returns nullopt; else
  // counts nothing and returns the first full window. `member` names this start (unique per
  // call). kUnavailable when the store is down.
  virtual absl::StatusOr<std::optional<FullWindow>> Take(std::string_view key,
                                                         const std::vector<limits::Rate>& rates,
                                                         std::string_view member) = 0;
};

}  // namespace klaxon::ingress::verification
