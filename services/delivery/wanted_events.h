#pragma once
// What a worker's own consumer of the Twilio events topic wants from it, decided cheaply on the
// consumer's thread (ThreadPoolHandlerOptions::wants): most of the topic is status callbacks of
// messages, which the consent, ACK and escalation handlers ignore, and handing each of them to a
// pool thread and back cost more than the rest of their handling (issue 12).

#include <initializer_list>
#include <span>

#include "common/messaging/thread_pool_handler.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

using TwilioEventKinds = std::span<const events::v1::TwilioEvent::BodyCase>;

// True for a TwilioEvent whose body is one of `kinds` (each handler's kActsOn), and for a message
// that is not a TwilioEvent at all, so that its handler reports it as it always has.
messaging::MessageFilter TwilioEventsOf(std::initializer_list<TwilioEventKinds> kinds);

}  // namespace klaxon::delivery
