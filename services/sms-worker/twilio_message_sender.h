#pragma once
// Sender for the SMS channel: one AlertRequested becomes one Twilio Message.

#include <string>

#include "common/delivery/sender.h"
#include "common/twilio/twilio_rest_client.h"

namespace klaxon::sms {

struct MessageSenderOptions {
  std::string from;             // the sender number, E.164
  std::string status_callback;  // where Twilio reports delivery; empty for none
};

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
