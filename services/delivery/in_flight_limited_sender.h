#pragma once
// A Sender whose reads of Twilio take a slot of the in-flight limit, as its sends do. Twilio counts
// every request against the account's concurrency limit (TWILIO.md, "Concurrency"), reads too, and
// answers one past it 429/20429; a send refused that way costs the alert an attempt. So the status
// checks' reads (status and charge) and the settlements of lost answers wait for a slot like the
// sends, instead of pushing the sends over the limit after a fault, when many reads come at once.
//
// Send passes straight through: the send gate has already taken its slot with the pacing, in one
// Redis round trip (ADR 0018). A read that finds no slot within the wait is not made: ReadStatus
// answers kResourceExhausted and Settle kUnknown, and both are tried again later (the attempt's
// next check, the next settlement), so reads yield to sends rather than hold a thread.

#include <string>

#include "absl/time/time.h"
#include "services/delivery/in_flight_limit.h"
#include "services/delivery/sender.h"

namespace klaxon::delivery {

// How long a worker's read waits for a slot: briefly, since a read that finds none is simply
// tried again at its next chance.
inline constexpr absl::Duration kReadSlotWait = absl::Seconds(1);

class InFlightLimitedSender final : public Sender {
 public:
  // Both borrowed; they must outlive this. `wait`: how long a read waits for a slot.
  InFlightLimitedSender(Sender& sender, InFlightLimit& in_flight, absl::Duration wait)
      : sender_(sender), in_flight_(in_flight), wait_(wait) {}

  SendResult Send(const events::v1::AlertRequested& request,
                  const transit::AlertPersonalData& personal, const PacedSender& from) override;
  SendResult Settle(const events::v1::AlertRequested& request,
                    const transit::AlertPersonalData& personal, absl::Time sent_at) override;
  absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                            const std::string& sid) override;

 private:
  Sender& sender_;
  InFlightLimit& in_flight_;
  const absl::Duration wait_;
};

}  // namespace klaxon::delivery
