#pragma once
// The webhook ingress: turns one HTTP request from Twilio into at most one durable TwilioEvent.
// In order: route (404), per-source rate limit (429), method (405), size (413), Content-Type
// (415), decoding (400), X-Twilio-Signature against the URL Twilio requested (403), meaning
// (400), dedupe (a replay is acknowledged without a second event), publish to Kafka and only
// then the 2xx (503 with Retry-After when Kafka or Redis cannot take it in time). For the
// workers' status checks (docs/adr/0014) it records each final status made durable, and notes a
// possible loss whenever it refuses a signed status callback with 503.
// Handle() waits on Redis (the dedupe claim), so the server runs it on a pool, not on a reactor
// thread; it does not wait for Kafka: the answer leaves from the publish's delivery report, and
// what follows it (marking the callback published, recording a final status) is handed back to
// the pool (ADR 0019).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/http/form.h"
#include "common/http/server.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/twilio/webhook_routes.h"
#include "services/ingress/callback_dedupe.h"
#include "services/ingress/callback_witness.h"
#include "services/ingress/client_address.h"
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
  std::string topic{};                     // klaxon.twilio.events, prefixed
  // The publisher's delivery timeout: a claim lasts a little longer, so a callback still being
  // published is never published again by a replay.
  absl::Duration publish_timeout = absl::Seconds(5);
  absl::Duration dedupe_window = absl::Hours(48);
  size_t max_body_bytes = 64 * 1024;
  // Threads for the steps after a publish (marking the callback published, recording its final
  // status, or releasing the claim of one Kafka refused): they wait on Redis, which the
  // publisher's delivery thread must not. 0 runs them on the thread that reports the publish
  // (the in-memory fakes report before PublishAsync returns). When their queue is full, a mark
  // is skipped (the claim's lease ends it) and a release too (Twilio's retry waits for the lease).
  size_t follow_up_threads = 0;
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
  // Waits until every publish started has been answered and settled.
  ~WebhookHandler();

  // Answers `request` through `respond`, exactly once: before Handle returns when it is refused
  // or a replay, otherwise once Kafka answered the publish. `request` need not outlive the call.
  void Handle(const http::Request& request, http::Responder respond);

  // The URL Twilio requested, as rebuilt for signature checks.
  std::string SignedUrl(const http::Request& request) const;

 private:
  struct Outcome;
  struct Publication;
  // An answer now, or a verified and claimed event to publish before answering.
  std::variant<Outcome, Publication> Process(const http::Request& request, std::string& route_name);
  // Kafka's answer to a publication's publish, on the delivery thread: answers the 2xx at once
  // and settles on the pool, or releases the claim on the pool and then answers 503.
  void Published(Publication publication, const absl::Status& status, http::Responder respond);
  // Marks a published callback and records its final status (Redis); the request's outcome.
  Outcome Settle(const Publication& publication);
  // Runs `work` on the follow-up pool (inline without one), or `refused` when the pool is full.
  void FollowUp(std::function<void()> work, std::function<void()> refused);
  void Report(std::string_view route_name, const Outcome& outcome, absl::Duration latency);
  // Held by each publish's completion and follow-up; the last copy's release counts it settled.
  std::shared_ptr<void> TrackUnsettled();

  const WebhookOptions options_;
  CallbackDedupe& dedupe_;
  messaging::Publisher& publisher_;
  CallbackWitness& witness_;
  const InboundPrivacy privacy_;
  SourceRateLimiter& rate_limiter_;
  WebhookTelemetry& telemetry_;
  timing::Clock& clock_;

  std::mutex unsettled_mutex_;
  std::condition_variable all_settled_;
  size_t unsettled_ = 0;  // guarded by unsettled_mutex_
  // Last, so it finishes its queue while the rest is still there.
  std::unique_ptr<concurrency::BlockingExecutor> follow_ups_;
};

}  // namespace klaxon::ingress
