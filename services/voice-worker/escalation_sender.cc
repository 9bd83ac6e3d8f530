#include "services/voice-worker/escalation_sender.h"

#include "absl/strings/str_cat.h"
#include "services/voice-worker/escalation_handler.h"

namespace klaxon::voice {

delivery::SendResult EscalationSender::Send(const events::v1::AlertRequested& request,
                                            const transit::AlertPersonalData& personal,
                                            const delivery::PacedSender& from) {
  const absl::Time keep_until = KeepUntil(request, clock_.Now());
  absl::Status remembered = store_.Remember(request, keep_until);
  if (remembered.ok()) {
    remembered = recipients_.Add(personal.recipient, request.header().alert_id(), keep_until);
  }
  if (!remembered.ok()) {
    return {.kind = delivery::SendResult::Kind::kRetryable,
            .reason = absl::StrCat("the call was not placed: its escalation state could not be "
                                   "stored (",
                                   std::string(remembered.message()), ")")};
  }
  return calls_.Send(request, personal, from);
}

}  // namespace klaxon::voice
