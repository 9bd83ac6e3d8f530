#include "services/delivery/wanted_events.h"

#include <algorithm>
#include <utility>

namespace klaxon::delivery {

std::function<bool(const messaging::InboundMessage&)> TwilioEventsOf(
    std::vector<events::v1::TwilioEvent::BodyCase> kinds) {
  return [kinds = std::move(kinds)](const messaging::InboundMessage& message) {
    events::v1::TwilioEvent event;
    if (!event.ParseFromString(message.value)) return true;
    return std::find(kinds.begin(), kinds.end(), event.body_case()) != kinds.end();
  };
}

}  // namespace klaxon::delivery
