#pragma once
// Port: the limits a send must fit before it reaches Twilio, shared by every worker replica
// (Redis): per-sender pacing (messages or calls per second per From number or Messaging Service,
// the sender chosen among the channel's for each send)
// and per-recipient limits over several windows. A send that does not fit is deferred to a retry
// tier, never dropped, and its status says which limit holds it and until when.
//
// Pacing reserves: a send that fits a little later gets a slot at `send_at` and must wait for it
// (the wait is short, bounded by the limiter's options); one that would wait longer reserves
// nothing and is deferred to `retry_at`.
//
// Then a send-time guard (ClearToSend), asked right before the request leaves, keeps a send that
// left its slot late from crowding the sends after it (send_limits.h says why both are needed).
//
// The dispatcher reserves through a SendGate (send_gate.h), which takes the reservation with the
// other checks before a send, and the guard too when the slot is due at once; it asks
// ClearToSend itself only when the gate's step did not clear the send.

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/senders.h"

namespace klaxon::delivery {

struct LimitDecision {
  enum class Kind {
    kSend,   // a slot is reserved: send at send_at (<= now when there is no wait); for
             // ClearToSend, see there
    kDefer,  // nothing reserved: try again at retry_at
  };
  Kind kind = Kind::kSend;
  absl::Time send_at;
  absl::Time retry_at;
  std::string
      limit;  // kDefer: which limit, a metric label with no personal data, e.g. "recipient_1h"
  std::string
      reason;  // kDefer: readable, for the alert's status, e.g. "recipient limit 11 per hour"
  // kSend: the sender whose slot is reserved (one of Reserve's `among`), the From or Messaging
  // Service the send must leave from and the guard must be asked for.
  PacedSender sender;
};

class SendLimiter {
 public:
  virtual ~SendLimiter() = default;
  // Errors are kUnavailable (the limiter's store is down: the send waits, it is not let through).
  // `recipient`: the request's, opened (E.164); adapters key per-recipient state by its token.
  // `among`: the senders the send may take (its routing rule's), each one of the limits';
  // kFailedPrecondition when empty, kInvalidArgument naming one that is not.
  virtual absl::StatusOr<LimitDecision> Reserve(const events::v1::AlertRequested& request,
                                                std::string_view recipient,
                                                std::span<const PacedSender> among,
                                                absl::Time now) = 0;

  // The send-time guard, asked once the send holds its reservation and its slot in flight, right
  // before the request leaves: a reservation says when a send should leave, not when it does, so
  // a late one could otherwise crowd the sends after it. `sender`'s log of sends (the sender its
  // reservation named) may hold at most rate.count within rate.window + guard_margin. Answers
  //   kSend, send_at <= now: this send is recorded in the log (as this attempt, which never
  //     counts against itself when asked again) and leaves now;
  //   kSend, send_at later: nothing recorded; wait until then and ask again;
  //   kDefer: nothing recorded; waiting would take the guard's wait, `waited` so far, past the
  //     limits' max_wait; retry_at, limit and reason as for pacing.
  // `now` is the caller's clock, on which send_at and retry_at are answered.
  // kInvalidArgument when `sender` is none of the limits' senders.
  virtual absl::StatusOr<LimitDecision> ClearToSend(const events::v1::AlertRequested& request,
                                                    const PacedSender& sender, absl::Time now,
                                                    absl::Duration waited) = 0;
};

}  // namespace klaxon::delivery
