#include "services/audit/topics.h"

#include "absl/strings/str_cat.h"

namespace klaxon::audit {

Topics Topics::WithPrefix(std::string_view prefix_view) {
  const std::string prefix(prefix_view);
  return {.sms_requests = absl::StrCat(prefix, "klaxon.sms.requests"),
          .voice_requests = absl::StrCat(prefix, "klaxon.voice.requests"),
          .delivery_events = absl::StrCat(prefix, "klaxon.delivery.events"),
          .twilio_events = absl::StrCat(prefix, "klaxon.twilio.events")};
}

}  // namespace klaxon::audit
