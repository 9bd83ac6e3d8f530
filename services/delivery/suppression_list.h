#pragma once
// Port: the recipients who opted out (STOP, or Twilio's 21610). An SMS to a suppressed recipient
// ends SUPPRESSED without calling Twilio. Changes carry the time they happened, and an older
// change never overrides a newer one, so a STOP and a START consumed out of order still leave the
// recipient's latest wish. Redis holds it for the hot path (the audit service keeps the record in
// Postgres).

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::delivery {

class SuppressionList {
 public:
  virtual ~SuppressionList() = default;
  // `recipient` is E.164. Errors are kUnavailable.
  virtual absl::StatusOr<bool> IsSuppressed(std::string_view recipient) = 0;
  virtual absl::Status Suppress(std::string_view recipient, absl::Time at) = 0;
  virtual absl::Status Lift(std::string_view recipient, absl::Time at) = 0;
};

}  // namespace klaxon::delivery
