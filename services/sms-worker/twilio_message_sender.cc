#include "services/sms-worker/twilio_message_sender.h"

#include <utility>

#include "common/delivery/twilio_outcome.h"
#include "common/twilio/webhook_routes.h"

namespace klaxon::sms {

twilio::CreateMessageRequest MessageRequestFor(const events::v1::AlertRequested& request,
                                               const MessageSenderOptions& options) {
  twilio::CreateMessageRequest message{
      .to = request.recipient(), .from = options.from, .body = request.text()};
  if (!options.webhook_public_url.empty()) {
    message.status_callback =
        twilio::CallbackUrl(options.webhook_public_url, twilio::kMessageStatusPath,
                            request.header().alert_id(), request.header().attempt());
  }
  return message;
}

TwilioMessageSender::TwilioMessageSender(twilio::TwilioRestClient& client,
                                         MessageSenderOptions options)
    : client_(client), options_(std::move(options)) {}

delivery::SendResult TwilioMessageSender::Send(const events::v1::AlertRequested& request) {
  twilio::TwilioResult<twilio::MessageResource> result =
      client_.CreateMessage(MessageRequestFor(request, options_));
  if (!result.ok()) return delivery::ClassifyTwilioError(result.error());
  return {.kind = delivery::SendResult::Kind::kAccepted,
          .sid = result.value().sid,
          .provider_status = result.value().status};
}

}  // namespace klaxon::sms
