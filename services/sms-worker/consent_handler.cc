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
  switch (event.body_case()) {
    case events::v1::TwilioEvent::kOptOut:
      return suppressions_.Suppress(event.opt_out().from(), at);
    case events::v1::TwilioEvent::kOptIn:
      return suppressions_.Lift(event.opt_in().from(), at);
    default:
      return absl::OkStatus();
  }
}

}  // namespace klaxon::sms
