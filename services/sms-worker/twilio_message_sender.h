#pragma once
// Sender for the SMS channel: one AlertRequested becomes one Twilio Message.

#include <string>

#include "common/delivery/sender.h"
#include "common/twilio/twilio_rest_client.h"

namespace klaxon::sms {

struct MessageSenderOptions {
  std::string from;  // the sender number, E.164
  // Public base URL of ingress's webhooks: Twilio reports each attempt's delivery to
  // twilio::CallbackUrl(webhook_public_url, kMessageStatusPath, alert_id, attempt). Empty for no
  // status callbacks.
  std::string webhook_public_url;
};

// The Twilio request that sends `request`'s attempt.
twilio::CreateMessageRequest MessageRequestFor(const events::v1::AlertRequested& request,
                                               const MessageSenderOptions& options);

class TwilioMessageSender final : public delivery::Sender {
 public:
  // `client` is borrowed and must outlive the sender.
  TwilioMessageSender(twilio::TwilioRestClient& client, MessageSenderOptions options);

  delivery::SendResult Send(const events::v1::AlertRequested& request) override;

 private:
  twilio::TwilioRestClient& client_;
  const MessageSenderOptions options_;
};

}  // namespace klaxon::sms
