#pragma once
// Sender for the SMS channel: one AlertRequested becomes one Twilio Message.

#include <optional>
#include <string>
#include <string_view>

#include "common/timing/clock.h"
#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/sender.h"

namespace klaxon::sms {

struct MessageSenderOptions {
  // Public base URL of ingress's webhooks: Twilio reports each attempt's delivery to
  // twilio::CallbackUrl(webhook_public_url, kMessageStatusPath, alert_id, attempt). Empty for no
  // status callbacks.
  std::string webhook_public_url;
};

// How long Twilio may hold the message before dropping it: the time left until the alert's
// deadline at `now`, clamped to Twilio's 1 to 36000 s; nullopt when the alert has no deadline.
std::optional<absl::Duration> ValidityPeriodFor(const events::v1::AlertRequested& request,
                                                absl::Time now);

// The Twilio request that sends `request`'s attempt from `from` (a number, or a Messaging Service
// sent as MessagingServiceSid) at `now`.
twilio::CreateMessageRequest MessageRequestFor(const events::v1::AlertRequested& request,
                                               const transit::AlertPersonalData& personal,
                                               const delivery::PacedSender& from,
                                               const MessageSenderOptions& options, absl::Time now);

// The settlement of an unknown attempt from the first page of the messages to the recipient
// (newest first, from any sender: a Messaging Service picks its number): the message created since
// `sent_at` with the attempt's body. It assumes no other alert sent the same text to the same
// recipient within the slack before the attempt. A full page whose oldest message is still too
// recent to rule out leaves it unknown.
delivery::SendResult SettleFromMessages(const twilio::ResourcePage<twilio::MessageResource>& page,
                                        std::string_view text, absl::Time sent_at);

// What a read of `message` found: its status as a status callback would have said it (a TwilioEvent
// with only message_status), and what Twilio charged once it priced it.
delivery::StatusReadBack ReadBackOf(const twilio::MessageResource& message);

class TwilioMessageSender final : public delivery::Sender {
 public:
  // `client` and `clock` are borrowed and must outlive the sender.
  TwilioMessageSender(twilio::TwilioRestClient& client, MessageSenderOptions options,
                      timing::Clock& clock);

  delivery::SendResult Send(const events::v1::AlertRequested& request,
                            const transit::AlertPersonalData& personal,
                            const delivery::PacedSender& from) override;
  delivery::SendResult Settle(const events::v1::AlertRequested& request,
                              const transit::AlertPersonalData& personal,
                              absl::Time sent_at) override;
  absl::StatusOr<delivery::StatusReadBack> ReadStatus(const events::v1::AlertRequested& request,
                                                      const std::string& sid) override;

 private:
  twilio::TwilioRestClient& client_;
  const MessageSenderOptions options_;
  timing::Clock& clock_;
};

}  // namespace klaxon::sms
