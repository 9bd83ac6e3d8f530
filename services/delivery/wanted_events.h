#pragma once
// What a worker's own consumer of the Twilio events topic wants from it, decided cheaply on the
// consumer's thread (ThreadPoolHandlerOptions::wants): most of the topic is status callbacks of
// messages, which the consent, ACK and escalation handlers ignore, and handing each of them to a
// pool thread and back cost more than the rest of their handling (issue 12).

#include <functional>
#include <vector>

#include "common/messaging/message.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

// True for a TwilioEvent whose body is one of `kinds`, and for a message that is not a
// TwilioEvent at all, so that its handler reports it as it always has.
std::function<bool(const messaging::InboundMessage&)> TwilioEventsOf(
    std::vector<events::v1::TwilioEvent::BodyCase> kinds);

}  // namespace klaxon::delivery
