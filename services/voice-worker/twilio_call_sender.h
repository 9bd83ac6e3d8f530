#pragma once
// Sender for the voice channel: one AlertRequested becomes one Twilio Call that reads the alert
// text aloud. Escalation (calling again, falling back to SMS, key-press acknowledgement) builds
// on this in the delivery-engine issue.

#include <string>

#include "common/delivery/sender.h"
#include "common/twilio/twilio_rest_client.h"

namespace klaxon::voice {

struct CallSenderOptions {
  std::string from;  // the caller id, E.164
  // Public base URL of ingress's webhooks: Twilio reports each attempt's call progress to
  // twilio::CallbackUrl(webhook_public_url, kCallStatusPath, alert_id, attempt). Empty for no
  // status callbacks.
  std::string webhook_public_url;
  std::string voice = "alice";  // TwiML <Say> voice
  std::string language = "en-US";
};

// Twilio refuses a Twiml parameter longer than this.
inline constexpr size_t kMaxTwimlLength = 4000;

// The TwiML that reads `text` aloud, escaped so no alert text can inject markup.
std::string SayTwiml(std::string_view text, std::string_view voice, std::string_view language);

// The Twilio request that places `request`'s attempt (its TwiML may exceed kMaxTwimlLength;
// Send refuses such a call).
twilio::CreateCallRequest CallRequestFor(const events::v1::AlertRequested& request,
                                         const CallSenderOptions& options);

class TwilioCallSender final : public delivery::Sender {
 public:
  // `client` is borrowed and must outlive the sender.
  TwilioCallSender(twilio::TwilioRestClient& client, CallSenderOptions options);

  delivery::SendResult Send(const events::v1::AlertRequested& request) override;

 private:
  twilio::TwilioRestClient& client_;
  const CallSenderOptions options_;
};

}  // namespace klaxon::voice
