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
//
// Requests come in batches (ADR 0038): Handle() verifies each, claims the batch's callbacks in
// one Redis round trip (so the server runs it on threads of its own, never a reactor's) and
// publishes them without waiting for Kafka. Each answer comes from Kafka's delivery report, and
// the steps after it that wait on Redis (the marks and the final statuses' records, each one
// round trip per batch, or the release of a failed publish) run on the handler's settle threads,
// so no thread is parked on an acknowledgement.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/concurrency/batch_workers.h"
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
  // Only a request whose connecting address is in these ranges has its client address taken
  // from X-Forwarded-For, and its scheme and host from X-Forwarded-Proto/-Host when
  // public_url_from_proxy; anyone else could pick the URL that is checked and the address that
  // is rate-limited. Empty trusts no one.
  TrustedProxies trusted_proxies{};
  // Whether a trusted proxy's X-Forwarded-Proto/-Host replace public_url's scheme and host: only
  // when no public URL was configured. A configured one is the URL Twilio signs; a proxy that
  // passes on a client's X-Forwarded-Host would otherwise let a request Twilio signed for another
  // host of the account (staging) verify here.
  bool public_url_from_proxy = false;
  std::vector<std::string> auth_tokens{};  // primary first; any one may have signed
  // Several accounts (docs/adr/0035): a request is verified with the tokens of the account its
  // AccountSid names, and refused when it names none of these. Empty: auth_tokens.
  std::map<std::string, std::vector<std::string>> account_tokens{};
  std::string topic{};  // klaxon.twilio.events, prefixed
  // The publisher's delivery timeout: Kafka's answer comes within it, and a claim outlives it.
  absl::Duration publish_timeout = absl::Seconds(5);
  // Callbacks waiting for Kafka's answer at most; past it a new one is answered 503 with
  // Retry-After at once (a slow Kafka sheds load instead of holding Twilio's connections).
  size_t max_publishing = 4096;
  // Threads for the steps after Kafka's answers. 0 runs them on the delivery report's thread:
  // only for unit tests, whose fake publisher answers at once (the real one's thread must never
  // wait on Redis).
  size_t settle_threads = 2;
  absl::Duration dedupe_window = absl::Hours(48);
  // How long an opt-out or opt-in (STOP, START, ...) is remembered instead: Twilio's signature
  // carries no time, so a captured consent change replayed after dedupe_window would otherwise
  // be published again as new, undoing a later change (or silencing someone's pages). They are
  // rare, so remembering them long costs little.
  absl::Duration consent_dedupe_window = absl::Hours(24 * 400);
  size_t max_body_bytes = 64 * 1024;
  // What an ordinary inbound SMS is answered, by the number it was sent to; none by default.
  InboundAutoReplies auto_replies{};
};

// The dedupe key of what a callback's signature covers: SHA-256 of Twilio's signed data over the
// request-target as received and the signed form parameters (none for a GET, whose query is in
// the target, or for a JSON body, bound by the target's bodySHA256). Scheme and host are left
// out: they come from configuration (or a trusted proxy), not from the callback.
std::string SignedContentKey(std::string_view target, const http::FormParams& signed_params);

// One request and where its answer goes.
struct WebhookCall {
  http::Request request;
  http::Responder answer;
};

class WebhookHandler {
 public:
  WebhookHandler(WebhookOptions options, CallbackDedupe& dedupe, messaging::Publisher& publisher,
                 CallbackWitness& witness, InboundPrivacy privacy, SourceRateLimiter& rate_limiter,
                 WebhookTelemetry& telemetry, timing::Clock& clock);

  ~WebhookHandler();

  // Works off the steps after Kafka's answers already queued, answering what they answer; later
  // ones go without their marks. Call once Kafka's last answers came (the publisher destroyed)
  // and before the server whose responders they call is destroyed.
  void Drain();

  // Answers each call: at once when it is refused or a replay, otherwise from Kafka's delivery
  // report. Waits on Redis once for the whole batch.
  void Handle(std::vector<WebhookCall> calls);

  // The URL Twilio requested, as rebuilt for signature checks.
  std::string SignedUrl(const http::Request& request) const;

 private:
  struct Outcome;
  struct Publication;
  struct Settled;
  // Most publications one settle takes: one Redis round trip for their marks.
  static constexpr size_t kMaxSettleBatch = 128;

  // Everything before the claim: an Outcome to answer now, or a verified callback to claim.
  std::variant<Outcome, Publication> Prepare(const http::Request& request, std::string& route_name);
  // The Outcome of a callback its claim did not give to this request, if so; else notes the
  // claim's token on `publication`, for its release.
  std::optional<Outcome> Unclaimed(Publication& publication,
                                   const absl::StatusOr<ClaimAnswer>& claim);
  // Claimed callbacks past max_publishing: released together, each answered 503.
  void RefuseOverBound(const std::vector<Publication*>& refused);
  void Publish(Publication publication);
  // The steps after Kafka's answers, for a batch of them.
  void Settle(std::vector<Settled> batch);
  // Acknowledged: marks them published and records their final statuses.
  void Keep(const std::vector<Settled*>& kept);
  // Marks each kept callback published for its window (consent changes for longer): one status
  // per callback, in order.
  std::vector<absl::Status> MarkPublished(const std::vector<Settled*>& kept);
  // Failed: releases their claims so Twilio's retries can publish them, then answers 503.
  void Refuse(const std::vector<Settled*>& failed);
  // When the settle queue is full: what can be done on the delivery thread without Redis.
  void SettleWithoutRedis(Settled& settled);
  void Finish(Outcome outcome, std::string_view source, std::string_view route_name,
              absl::Time started, const http::Responder& answer);
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
  // Callbacks claimed for a publish whose delivery report has not finished.
  std::atomic<size_t> publishing_ = 0;
  // Last, so it is drained while everything its steps use is alive.
  std::unique_ptr<concurrency::BatchWorkers<Settled>> settle_;
};

}  // namespace klaxon::ingress
