#pragma once
// Port: the decisions taken for an attempt before it is sent, in the order of docs/adr/0007 and in
// one step, so that an adapter can take them in one round trip (RedisSendGate: one Lua script;
// docs/adr/0018): is the alert stopped, or its escalation chain (docs/adr/0029), has the recipient
// opted out (SMS), do the limits let it through (the SendLimiter's rules: recipient windows, then
// the sender's pacing slot), and, when the reserved slot is due at once, the slot in flight to
// Twilio (InFlightLimit) and the send-time guard (SendLimiter::ClearToSend) too.
//
// Only the common case is one step. A slot reserved for later, no slot in flight free, or a guard
// that holds the send back ends the step at kReserved, and the caller goes on as the ports say:
// waits for send_at, InFlightLimit::Acquire, then SendLimiter::ClearToSend until it clears.
//
// Seconds may pass on that slow path, so the caller asks FindStop again just before it sends: a
// cancel or an acknowledgement made while it waited still holds the send back.
//
// Nothing is taken that the answer does not hand over: a stopped alert, a suppressed recipient
// and a deferral reserve nothing; kReserved holds the pacing slot (and the recipient's windows
// count the send); kCleared holds those, the slot in flight and the guard's record of this send.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/send_limiter.h"

namespace klaxon::delivery {

// What Open asks besides the stop, which it always reads.
struct GateChecks {
  bool suppression = false;  // the recipient's opt-out (SMS)
  // The senders the limits choose among (the routing rule's, routing.h), and the lease and guard
  // when the slot is due at once. Empty when the attempt cannot be sent whatever they say (past
  // its deadline, its channel switched off, no rule routes it): then only the stop and the
  // opt-out are read, and nothing is taken.
  std::span<const PacedSender> reserve_among;

  bool reserve() const { return !reserve_among.empty(); }
};

// A stop that holds an attempt back: the alert's own, or its escalation chain's.
struct FoundStop {
  stopped_alerts::StopReason reason = stopped_alerts::StopReason::kCancelled;
  // The stop is the alert's escalation chain's (AlertRequested.escalation_id, docs/adr/0029), not
  // the alert's own. The alert's own is read first and wins, so a page stopped itself still ends
  // as its own stop says.
  bool chain = false;
};

struct GateDecision {
  enum class Kind {
    kStopped,     // `stop` says why, `chain_stopped` whose; nothing taken
    kSuppressed,  // the recipient opted out; nothing taken
    kUnreserved,  // neither stopped nor suppressed, and nothing to reserve among; nothing taken
    kDeferred,    // `limit` (kDefer) says which limit and until when; nothing taken
    kReserved,    // a pacing slot at limit.send_at (<= now when due at once): the caller waits
                  // for it, then takes the slot in flight and asks the guard
    kCleared,     // the slot was due at once; `in_flight_slot` is held and the guard recorded the
                  // send: send now from limit.sender, then InFlightLimit::Release(in_flight_slot)
  };
  Kind kind = Kind::kUnreserved;
  stopped_alerts::StopReason stop = stopped_alerts::StopReason::kCancelled;  // kStopped
  // kStopped: the stop that held is the alert's escalation chain's (AlertRequested.escalation_id,
  // docs/adr/0029), not the alert's own. The alert's own is read first and wins, so a page
  // stopped itself still ends as its own stop says.
  bool chain_stopped = false;
  // kDeferred, kReserved; kCleared: the reservation, which names the sender to send from.
  LimitDecision limit;
  std::string in_flight_slot;  // kCleared
};

class SendGate {
 public:
  virtual ~SendGate() = default;
  // `recipient`: the request's, opened (E.164); `now`: the caller's clock, on which send_at and
  // retry_at are answered. Errors are kUnavailable (a store is down: nothing is sent). A reply
  // lost after the store acted may leave a reservation or a slot in flight taken; their windows
  // and leases free them, as for any lost reply.
  virtual absl::StatusOr<GateDecision> Open(const events::v1::AlertRequested& request,
                                            std::string_view recipient, absl::Time now,
                                            GateChecks checks) = 0;
  // Only the stop Open reads first: the alert's, else its chain's; nullopt when neither is
  // stopped. Errors are kUnavailable.
  virtual absl::StatusOr<std::optional<FoundStop>> FindStop(
      const events::v1::AlertRequested& request) = 0;
};

}  // namespace klaxon::delivery
