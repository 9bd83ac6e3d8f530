#pragma once
// Port: how many alerts each caller may send, shared by every ingress replica. SendAlert asks it
// once per alert it is about to make durable, so repeats of an accepted idempotency key cost
// nothing.

#include <string_view>

#include "absl/status/status.h"

namespace klaxon::ingress {

class CallerQuota {
 public:
  virtual ~CallerQuota() = default;
  // Takes one alert from `caller`'s quota. kResourceExhausted, naming the quota and when to
  // retry, when it is used up; kUnavailable when the store is down.
  virtual absl::Status Admit(std::string_view caller) = 0;
};

}  // namespace klaxon::ingress
