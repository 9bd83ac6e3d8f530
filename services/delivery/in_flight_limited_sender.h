#pragma once
// A Sender whose reads of Twilio take a slot of the in-flight limit, as its sends do. Twilio counts
// every request against the account's concurrency limit (TWILIO.md, "Concurrency"), reads too, and
// answers one past it 429/20429; a send refused that way costs the alert an attempt. The status
// checks read every accepted attempt's charge (ADR 0036) and, after a fault, its status, and the
// settlements of lost answers list recent messages or calls: as many reads as sends in steady
// state, more after a fault. So they wait for a slot like the sends (ADR 0042).
//
// Send passes straight through: the dispatcher takes the send's slot (in the send gate's script
// with the pacing, ADR 0018, or on its own). A read that finds no free slot within the wait is
// not made: ReadStatus answers kResourceExhausted and Settle kUnknown, and both are tried again
// later (the attempt's next check, the next settlement). When the limit cannot be asked at all
// (Redis down), the read is made without a slot, as status checks read Twilio while Redis is down.
//
// One per account (AccountSenders holds them), so a settlement that asks every account in turn
// holds one slot per request, each within its lease.

#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "services/delivery/in_flight_limit.h"
#include "services/delivery/sender.h"

namespace klaxon::delivery {

// How long a worker's read waits for a slot: briefly, since a read that finds none is tried again
// at its next chance.
inline constexpr absl::Duration kReadSlotWait = absl::Seconds(1);

class InFlightLimitedSender final : public Sender {
 public:
  // `in_flight` is borrowed and must outlive this. `wait`: how long a read waits for a slot.
  InFlightLimitedSender(std::unique_ptr<Sender> sender, InFlightLimit& in_flight,
                        absl::Duration wait)
      : sender_(std::move(sender)), in_flight_(in_flight), wait_(wait) {}

  SendResult Send(const events::v1::AlertRequested& request,
                  const transit::AlertPersonalData& personal, const PacedSender& from) override;
  SendResult Settle(const events::v1::AlertRequested& request,
                    const transit::AlertPersonalData& personal, absl::Time sent_at) override;
  absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                            const std::string& sid) override;

 private:
  const std::unique_ptr<Sender> sender_;
  InFlightLimit& in_flight_;
  const absl::Duration wait_;
};

}  // namespace klaxon::delivery
