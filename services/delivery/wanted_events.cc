#include "services/delivery/wanted_events.h"

#include <algorithm>
#include <vector>

namespace klaxon::delivery {

messaging::MessageFilter TwilioEventsOf(std::initializer_list<TwilioEventKinds> kinds) {
  std::vector<events::v1::TwilioEvent::BodyCase> wanted;
  for (const TwilioEventKinds& some : kinds) wanted.insert(wanted.end(), some.begin(), some.end());
  return [kinds = std::move(wanted)](const messaging::InboundMessage& message) {
    events::v1::TwilioEvent event;
    if (!event.ParseFromString(message.value)) return true;
    return std::find(kinds.begin(), kinds.end(), event.body_case()) != kinds.end();
  };
}

}  // namespace klaxon::delivery
