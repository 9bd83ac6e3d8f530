#pragma once
// What a verified Twilio webhook means: which route it came in on, the TwilioEvent it becomes,
// the key it is deduplicated by and the Kafka key that keeps related events in order. Pure, so
// every rule is unit-tested without HTTP, Redis or Kafka.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/form.h"
#include "common/log/log.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::ingress {

enum class WebhookRoute { kMessageStatus, kCallStatus, kInboundMessage, kGather };

// The route served at `path` (see common/twilio/webhook_routes.h); nullopt for any other path.
std::optional<WebhookRoute> RouteForPath(std::string_view path);

// A short name for metrics and logs: message_status, call_status, inbound_message, gather.
std::string_view RouteName(WebhookRoute route);

// Whether Twilio expects TwiML back (inbound messages and key presses) rather than an empty 204.
bool ExpectsTwiml(WebhookRoute route);

// Whether the route carries message or call status callbacks, whose loss the status checks
// repair (docs/adr/0014).
bool IsStatusRoute(WebhookRoute route);

struct InterpretedWebhook {
  events::v1::TwilioEvent event;
  std::string dedupe_key;     // also event.dedupe_key
  std::string partition_key;  // alert_id when known, else the sender's phone token or the SID
  // The message or call SID when this is a status callback with a status Twilio never changes
  // again (twilio::IsFinalMessageStatus, IsFinalCallStatus); empty otherwise. Once durable, the
  // status checks need not read that SID from Twilio (docs/adr/0014).
  std::string final_sid{};
  // An inbound SMS that is neither an opt-out, an opt-in, a request for help (HELP, INFO, which
  // Twilio answers itself) nor an acknowledgement (sms_acks::ParseAckReply): the number it was sent
  // to, whose auto-reply may answer it (inbound_auto_reply.h). Empty for everything else.
  std::string answerable_at{};
};

// How an inbound SMS leaves ingress (docs/adr/0013-transit-encryption.md): its sender and body
// sealed under the transit keyring, its Kafka key the sender's keyed phone token
// (KLAXON_PII_HMAC_KEY), never the number. Borrowed.
struct InboundPrivacy {
  transit::TransitCipher& transit;
  const log::PhoneRedactor& tokens;
};

struct WebhookInput {
  WebhookRoute route = WebhookRoute::kMessageStatus;
  const http::FormParams* params = nullptr;     // what Twilio sent: form, JSON object or GET query
  const http::FormParams* url_query = nullptr;  // the decoded query of the URL (alert_id, attempt)
  std::optional<std::string> idempotency_token{};  // I-Twilio-Idempotency-Token
  absl::Time received_at{};
};

// kInvalidArgument naming the parameter when one the route needs is missing or malformed:
// MessageSid and MessageStatus (message status), CallSid and CallStatus (call status),
// MessageSid, From and To (inbound), CallSid and Digits (gather); ErrorCode, SequenceNumber and
// CallDuration must be whole numbers when present; alert_id must be a UUID and attempt a
// positive number when present. kInternal if sealing an inbound SMS fails (the CSPRNG failed).
absl::StatusOr<InterpretedWebhook> InterpretWebhook(const WebhookInput& input,
                                                    const InboundPrivacy& privacy);

}  // namespace klaxon::ingress
