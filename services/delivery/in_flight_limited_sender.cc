#include "services/delivery/in_flight_limited_sender.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// A slot held for one read, given back however the read ends. Holds none when the limit could
// not be asked (the read goes ahead without one); `refused` tells when every slot stayed taken.
class ReadSlot {
 public:
  ReadSlot(InFlightLimit& in_flight, absl::Duration wait) : in_flight_(in_flight) {
    // From the normal share: a read never makes a critical page wait for a slot.
    absl::StatusOr<std::string> slot = in_flight_.Acquire(wait, types::v1::PRIORITY_NORMAL);
    if (slot.ok()) {
      slot_ = *std::move(slot);
    } else if (absl::IsResourceExhausted(slot.status())) {
      refused_ = absl::StrCat(
          "no request slot to Twilio came free (KLAXON_TWILIO_MAX_IN_FLIGHT, tried again later): ",
          slot.status().message());
    }
  }
  ReadSlot(const ReadSlot&) = delete;
  ReadSlot& operator=(const ReadSlot&) = delete;
  ~ReadSlot() {
    if (slot_) in_flight_.Release(*slot_);
  }

  // Why the read must not be made; nullopt when it may.
  const std::optional<std::string>& refused() const { return refused_; }

 private:
  InFlightLimit& in_flight_;
  std::optional<std::string> slot_;
  std::optional<std::string> refused_;
};

}  // namespace

SendResult InFlightLimitedSender::Send(const events::v1::AlertRequested& request,
                                       const transit::AlertPersonalData& personal,
                                       const PacedSender& from) {
  return sender_->Send(request, personal, from);
}

SendResult InFlightLimitedSender::Settle(const events::v1::AlertRequested& request,
                                         const transit::AlertPersonalData& personal,
                                         absl::Time sent_at) {
  const ReadSlot slot(in_flight_, wait_);
  if (slot.refused()) {
    return {.kind = SendResult::Kind::kUnknown,
            .reason = absl::StrCat("settlement: ", *slot.refused())};
  }
  return sender_->Settle(request, personal, sent_at);
}

absl::StatusOr<StatusReadBack> InFlightLimitedSender::ReadStatus(
    const events::v1::AlertRequested& request, const std::string& sid) {
  const ReadSlot slot(in_flight_, wait_);
  if (slot.refused()) return absl::ResourceExhaustedError(*slot.refused());
  return sender_->ReadStatus(request, sid);
}

}  // namespace klaxon::delivery
