#pragma once
// The webhook ingress: turns one HTTP request from Twilio into at most one durable TwilioEvent.
// In order: route (404), per-source limit (429), method (405), size (413), Content-Type
// (415), decoding (400), X-Twilio-Signature against the URL Twilio requested (403), meaning
// (400), dedupe (a replay is acknowledged without a second event), publish to Kafka and only
// then the 2xx (503 with Retry-After when Kafka or Redis cannot take it in time). For the
// workers' status checks (docs/adr/0014) it records each final status made durable, and notes a
// possible loss whenever it refuses a signed status callback with 503. The per-source limit counts
// only what a source sent that was refused (4xx) or kept already (a replay): Twilio's new, signed
// callbacks are never refused for their number (SourceRateLimiter).
// Handle() blocks on Redis and Kafka; the server runs it on a pool, not on a reactor thread.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/form.h"
#include "common/http/server.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/twilio/webhook_routes.h"
#include "services/ingress/callback_dedupe.h"
#include "services/ingress/callback_witness.h"
#include "services/ingress/client_address.h"
#include "services/ingress/inbound_auto_reply.h"
#include "services/ingress/source_rate_limiter.h"
#include "services/ingress/twilio_webhook.h"
#include "services/ingress/webhook_telemetry.h"

namespace klaxon::ingress {

struct WebhookOptions {
  twilio::PublicBaseUrl public_url{};
  // Only a request whose connecting address is in these ranges has its scheme, host and client
  // address taken from X-Forwarded-Proto/-Host/-For; anyone else could pick the URL that is
  // checked and the address that is rate-limited. Empty trusts no one.
  TrustedProxies trusted_proxies{};
  std::vector<std::string> auth_tokens{};  // primary first; any one may have signed
  // Several accounts (docs/adr/0035): a request is verified with the tokens of the account its
  // AccountSid names, and refused when it names none of these. Empty: auth_tokens.
  std::map<std::string, std::vector<std::string>> account_tokens{};
  std::string topic{};  // klaxon.twilio.events, prefixed
  absl::Duration publish_timeout = absl::Seconds(5);
  absl::Duration dedupe_window = absl::Hours(48);
  size_t max_body_bytes = 64 * 1024;
  // What an ordinary inbound SMS is answered, by the number it was sent to; none by default.
  InboundAutoReplies auto_replies{};
};

// The dedupe key of what a callback's signature covers: SHA-256 of Twilio's signed data over the
// request-target as received and the signed form parameters (none for a GET, whose query is in
// the target, or for a JSON body, bound by the target's bodySHA256). Scheme and host are left
// out: they come from configuration (or a trusted proxy), not from the callback.
std::string SignedContentKey(std::string_view target, const http::FormParams& signed_params);

class WebhookHandler {
 public:
  WebhookHandler(WebhookOptions options, CallbackDedupe& dedupe, messaging::Publisher& publisher,
                 CallbackWitness& witness, InboundPrivacy privacy, SourceRateLimiter& rate_limiter,
                 WebhookTelemetry& telemetry, timing::Clock& clock);

  http::Response Handle(const http::Request& request);

  // The URL Twilio requested, as rebuilt for signature checks.
  std::string SignedUrl(const http::Request& request) const;

 private:
  struct Outcome;
  Outcome Process(const http::Request& request, std::string_view source, std::string& route_name);
  // The tokens a request with `params` may be signed with (WebhookOptions::account_tokens).
  const std::vector<std::string>& TokensFor(const http::FormParams& params) const;

  const WebhookOptions options_;
  CallbackDedupe& dedupe_;
  messaging::Publisher& publisher_;
  CallbackWitness& witness_;
  const InboundPrivacy privacy_;
  SourceRateLimiter& rate_limiter_;
  WebhookTelemetry& telemetry_;
  timing::Clock& clock_;
};

}  // namespace klaxon::ingress
