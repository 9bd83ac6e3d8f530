#pragma once
// Port: how many alerts each caller may send, shared by every ingress replica. SendAlert asks it
// once per alert it is about to make durable, so repeats of an accepted idempotency key cost
// nothing.

#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace klaxon::ingress {

class CallerQuota {
 public:
  virtual ~CallerQuota() = default;
  // Takes one alert from each of `callers`' quotas (a caller named twice, two). For each:
  // kResourceExhausted, naming the quota and when to retry, when it is used up; kUnavailable when
  // the store is down. One answer per caller, in order; a store on a server makes one round trip
  // for all of them.
  virtual std::vector<absl::Status> AdmitAll(std::span<const std::string_view> callers) = 0;
  // AdmitAll of one caller.
  absl::Status Admit(std::string_view caller) { return AdmitAll({&caller, 1}).front(); }
};

}  // namespace klaxon::ingress
