#pragma once
// Sender for the voice channel: one AlertRequested becomes one Twilio Call, with machine
// detection, that reads the alert text aloud and lets the callee acknowledge it with a key press
// (posted to ingress's gather route). Escalation is EscalationHandler's.

#include <string>

#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/sender.h"

namespace klaxon::voice {

struct CallSenderOptions {
  // Public base URL of ingress's webhooks: Twilio reports each attempt's call progress to
  // twilio::CallbackUrl(webhook_public_url, kCallStatusPath, alert_id, attempt) and key presses
  // to the same URL under kGatherPath. Empty for neither.
  std::string webhook_public_url;
  std::string voice = "alice";  // TwiML <Say> voice
  std::string language = "en-US";
};

// Twilio refuses a Twiml parameter longer than this.
inline constexpr size_t kMaxTwimlLength = 4000;

// What the callee hears after the alert text, and when the Gather ends without a key.
inline constexpr char kPressAnyKey[] = "Press any key to acknowledge.";
inline constexpr char kNoKeyPressed[] = "No key was pressed. Goodbye.";

// The TwiML that reads `text` aloud inside a one-digit <Gather> whose key press Twilio posts to
// `gather_action` (none when empty), every value escaped so no alert text can inject markup.
std::string AlertTwiml(std::string_view text, std::string_view gather_action,
                       std::string_view voice, std::string_view language);

// The Twilio request that places `request`'s attempt (its TwiML may exceed kMaxTwimlLength;
// Send refuses such a call). The alert's voice policy may name the language and voice (else
// `options`') and make the call read-only: no Gather, so no key press is asked for.
twilio::CreateCallRequest CallRequestFor(const events::v1::AlertRequested& request,
                                         const transit::AlertPersonalData& personal,
                                         std::string_view from, const CallSenderOptions& options);

// The settlement of an unknown attempt from the first page of the calls to the recipient (newest
// first), from whichever caller ID its routing rule chose. A call's TwiML cannot be read back, so
// the attempt's call is the earliest one created since `sent_at`: this assumes no other call to
// the recipient started between the attempt and the settlement (one voice alert escalates to one
// recipient a call at a time; two voice alerts to the same person in the same seconds could be
// confused). A full page whose oldest call is still too recent to rule out leaves it unknown.
delivery::SendResult SettleFromCalls(const twilio::ResourcePage<twilio::CallResource>& page,
                                     absl::Time sent_at);

// What a read of `call` found: its status as a status callback would have said it (a TwilioEvent
// with only call_status), and what Twilio charged once it priced it.
delivery::StatusReadBack ReadBackOf(const twilio::CallResource& call);

class TwilioCallSender final : public delivery::Sender {
 public:
  // `client` is borrowed and must outlive the sender.
  TwilioCallSender(twilio::TwilioRestClient& client, CallSenderOptions options);

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
  const CallSenderOptions options_;
};

}  // namespace klaxon::voice
