#include "services/sms-worker/consent_handler.h"

#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::sms {

absl::Status ConsentHandler::Handle(const messaging::InboundMessage& message) {
  events::v1::TwilioEvent event;
  if (!event.ParseFromString(message.value)) {
    return absl::InvalidArgumentError("the message is not a TwilioEvent");
  }
  const absl::Time at = prototime::FromProto(event.header().occurred_at());
  const bool opt_out = event.body_case() == events::v1::TwilioEvent::kOptOut;
  if (!opt_out && event.body_case() != events::v1::TwilioEvent::kOptIn) return absl::OkStatus();
  absl::StatusOr<std::string> from =
      transit_.OpenKeyword(opt_out ? event.opt_out() : event.opt_in());
  if (!from.ok()) return from.status();
  return opt_out ? suppressions_.Suppress(*from, at) : suppressions_.Lift(*from, at);
}

}  // namespace klaxon::sms
