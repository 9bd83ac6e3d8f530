#include "services/delivery/in_flight_limited_sender.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

std::string NoSlot(const absl::Status& acquired) {
  return absl::StrCat("no request slot to Twilio came free (KLAXON_TWILIO_MAX_IN_FLIGHT): ",
                      acquired.message());
}

}  // namespace

SendResult InFlightLimitedSender::Send(const events::v1::AlertRequested& request,
                                       const transit::AlertPersonalData& personal,
                                       const PacedSender& from) {
  return sender_.Send(request, personal, from);
}

SendResult InFlightLimitedSender::Settle(const events::v1::AlertRequested& request,
                                         const transit::AlertPersonalData& personal,
                                         absl::Time sent_at) {
  const absl::StatusOr<std::string> slot = in_flight_.Acquire(wait_);
  if (!slot.ok()) {
    return {.kind = SendResult::Kind::kUnknown,
            .reason = absl::StrCat("settlement: ", NoSlot(slot.status()))};
  }
  SendResult result = sender_.Settle(request, personal, sent_at);
  in_flight_.Release(*slot);
  return result;
}

absl::StatusOr<StatusReadBack> InFlightLimitedSender::ReadStatus(
    const events::v1::AlertRequested& request, const std::string& sid) {
  const absl::StatusOr<std::string> slot = in_flight_.Acquire(wait_);
  if (!slot.ok()) return absl::ResourceExhaustedError(NoSlot(slot.status()));
  absl::StatusOr<StatusReadBack> read = sender_.ReadStatus(request, sid);
  in_flight_.Release(*slot);
  return read;
}

}  // namespace klaxon::delivery
