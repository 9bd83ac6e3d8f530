#pragma once
// Port: the limits a send must fit before it reaches Twilio, shared by every worker replica
// (Redis): per-sender pacing (messages or calls per second per From number or Messaging Service)
// and per-recipient limits over several windows. A send that does not fit is deferred to a retry
// tier, never dropped, and its status says which limit holds it and until when.
//
// Pacing reserves: a send that fits a little later gets a slot at `send_at` and must wait for it
// (the wait is short, bounded by the limiter's options); one that would wait longer reserves
// nothing and is deferred to `retry_at`.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

struct LimitDecision {
  enum class Kind {
    kSend,   // a slot is reserved: send at send_at (<= now when there is no wait)
    kDefer,  // nothing reserved: try again at retry_at
  };
  Kind kind = Kind::kSend;
  absl::Time send_at;
  absl::Time retry_at;
  std::string
      limit;  // kDefer: which limit, a metric label with no personal data, e.g. "recipient_1h"
  std::string
      reason;  // kDefer: readable, for the alert's status, e.g. "recipient limit 11 per hour"
};

class SendLimiter {
 public:
  virtual ~SendLimiter() = default;
  // Errors are kUnavailable (the limiter's store is down: the send waits, it is not let through).
  virtual absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                                absl::Time now) = 0;
};

}  // namespace klaxon::delivery
