#pragma once
// Port: how often verifications may be started, per key (a recipient's blind index, a number
// range, a caller), each over several sliding windows at once ("5/1h,20/24h"), all keys of a
// start decided together. Shared by every ingress replica.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/limits/rate.h"

namespace klaxon::ingress::verification {

// The windows one key is limited by, e.g. a recipient's {5/1h, 20/24h}.
struct KeyedRates {
  std::string key;
  std::vector<limits::Rate> rates;
};

// Why a start does not fit: which limit (its index in Take's list) and window is full, and when
// it next has room.
struct FullWindow {
  size_t limit = 0;
  limits::Rate rate;
  absl::Duration retry_after;
};

class StartLimiter {
 public:
  virtual ~StartLimiter() = default;
  // Counts one start under every key of `limits` when every window of every key has room, and
  // returns nullopt; else counts nothing anywhere (a start refused by one limit never uses up
  // another) and returns the first full window, in the order given. `member` names this start
  // (unique per call). kUnavailable when the store is down.
  virtual absl::StatusOr<std::optional<FullWindow>> Take(const std::vector<KeyedRates>& limits,
                                                         std::string_view member) = 0;
};

}  // namespace klaxon::ingress::verification
