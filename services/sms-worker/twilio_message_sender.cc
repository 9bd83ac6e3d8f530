#include "services/sms-worker/twilio_message_sender.h"

#include <utility>

#include "common/delivery/twilio_outcome.h"

namespace klaxon::sms {

TwilioMessageSender::TwilioMessageSender(twilio::TwilioRestClient& client,
                                         MessageSenderOptions options)
    : client_(client), options_(std::move(options)) {}

delivery::SendResult TwilioMessageSender::Send(const events::v1::AlertRequested& request) {
  twilio::CreateMessageRequest message{
      .to = request.recipient(), .from = options_.from, .body = request.text()};
  if (!options_.status_callback.empty()) message.status_callback = options_.status_callback;
  twilio::TwilioResult<twilio::MessageResource> result = client_.CreateMessage(message);
  if (!result.ok()) return delivery::ClassifyTwilioError(result.error());
  return {.kind = delivery::SendResult::Kind::kAccepted,
          .sid = result.value().sid,
          .provider_status = result.value().status};
}

}  // namespace klaxon::sms
