#include "services/audit/topics.h"

#include "common/kafka/request_topics.h"
#include "common/kafka/topics.h"

namespace klaxon::audit {

Topics Topics::WithPrefix(std::string_view prefix_view) {
  const std::string prefix(prefix_view);
  auto named = [&prefix](std::string_view topic) { return prefix + std::string(topic); };
  return {.sms_requests = named(kafka::kSmsRequests),
          .voice_requests = named(kafka::kVoiceRequests),
          .sms_urgent_requests = named(kafka::kSmsUrgentRequests),
          .voice_urgent_requests = named(kafka::kVoiceUrgentRequests),
          .delivery_events = named(kafka::kDeliveryEvents),
          .twilio_events = named(kafka::kTwilioEvents)};
}

const std::string& Topics::Request(types::v1::Channel channel, types::v1::Priority priority) const {
  const bool voice = channel == types::v1::CHANNEL_VOICE;
  if (kafka::Urgent(priority)) return voice ? voice_urgent_requests : sms_urgent_requests;
  return voice ? voice_requests : sms_requests;
}

}  // namespace klaxon::audit
