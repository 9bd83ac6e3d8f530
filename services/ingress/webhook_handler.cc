#include "services/ingress/webhook_handler.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/twilio/webhook_signature.h"
#include "nlohmann/json.hpp"
#include "services/ingress/twilio_webhook.h"

namespace klaxon::ingress {
namespace {

constexpr char kFormType[] = "application/x-www-form-urlencoded";
constexpr char kJsonType[] = "application/json";
constexpr char kEmptyTwiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
// How long a claimed callback stays claimed if this process dies mid-publish: past the publish
// timeout, so a live publish is never doubled, and short, so Twilio's retry is not refused long.
constexpr absl::Duration kClaimMargin = absl::Seconds(5);
// Follow-ups waiting for a thread; about a second of callbacks at the webhook's peak rate.
constexpr size_t kMaxQueuedFollowUps = 4096;

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// The media type of a Content-Type value, lowercased, without parameters (charset=...).
std::string MediaType(std::string_view content_type) {
  return Lowercase(TrimSpaces(content_type.substr(0, content_type.find(';'))));
}

// The first entry of a comma-separated forwarding header (the one the client set first).
std::string FirstEntry(std::string_view value) {
  return std::string(TrimSpaces(value.substr(0, value.find(','))));
}

// A JSON webhook body as parameters: a flat object whose values are scalars.
absl::StatusOr<http::FormParams> DecodeJsonObject(const std::string& body) {
  const nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("body is not valid JSON");
  if (!json.is_object()) return absl::InvalidArgumentError("JSON body must be an object");
  http::FormParams params;
  for (const auto& [key, value] : json.items()) {
    if (value.is_string()) {
      params.emplace_back(key, value.get<std::string>());
    } else if (value.is_null()) {
      params.emplace_back(key, "");
    } else if (value.is_primitive()) {
      params.emplace_back(key, value.dump());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON field ", key, " must be a string, number or boolean"));
    }
  }
  return params;
}

http::Response Plain(int status, std::string body) {
  return {.status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

// The answer when the event cannot be kept now: 503, to be retried after a second.
http::Response RetryLater() {
  http::Response response = Plain(503, "cannot keep this event right now; retry\n");
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace

std::string SignedContentKey(std::string_view target, const http::FormParams& signed_params) {
  return absl::StrCat("signed:",
                      twilio::BodySha256Hex(twilio::CanonicalSignedData(target, signed_params)));
}

struct WebhookHandler::Outcome {
  http::Response response;
  std::string label;
  std::string detail{};
};

// A verified callback, claimed under its dedupe keys, on its way to Kafka.
struct WebhookHandler::Publication {
  std::string route_name;
  bool status_route = false;
  absl::Time started;
  DedupeKeys dedupe_keys;
  std::string final_sid;  // empty unless the callback reports a final status
  messaging::OutboundMessage message;
  http::Response success;
};

WebhookHandler::WebhookHandler(WebhookOptions options, CallbackDedupe& dedupe,
                               messaging::Publisher& publisher, CallbackWitness& witness,
                               InboundPrivacy privacy, SourceRateLimiter& rate_limiter,
                               WebhookTelemetry& telemetry, timing::Clock& clock)
    : options_(std::move(options)),
      dedupe_(dedupe),
      publisher_(publisher),
      witness_(witness),
      privacy_(privacy),
      rate_limiter_(rate_limiter),
      telemetry_(telemetry),
      clock_(clock) {
  if (options_.follow_up_threads > 0) {
    follow_ups_ =
        std::make_unique<concurrency::BlockingExecutor>(concurrency::BlockingExecutorOptions{
            .threads = options_.follow_up_threads, .max_queued = kMaxQueuedFollowUps});
  }
}

WebhookHandler::~WebhookHandler() {
  std::unique_lock lock(unsettled_mutex_);
  all_settled_.wait(lock, [this] { return unsettled_ == 0; });
}

std::shared_ptr<void> WebhookHandler::TrackUnsettled() {
  {
    std::lock_guard lock(unsettled_mutex_);
    ++unsettled_;
  }
  return std::shared_ptr<void>(nullptr, [this](void*) {
    std::lock_guard lock(unsettled_mutex_);
    if (--unsettled_ == 0) all_settled_.notify_all();
  });
}

std::string WebhookHandler::SignedUrl(const http::Request& request) const {
  std::string scheme = options_.public_url.scheme;
  std::string authority = options_.public_url.authority;
  if (options_.trusted_proxies.Trusts(request.peer_address)) {
    if (auto proto = request.Header("X-Forwarded-Proto"); proto && !FirstEntry(*proto).empty()) {
      scheme = FirstEntry(*proto);
    }
    if (auto host = request.Header("X-Forwarded-Host"); host && !FirstEntry(*host).empty()) {
      authority = FirstEntry(*host);
    }
  }
  return absl::StrCat(scheme, "://", authority, options_.public_url.prefix, request.target);
}

void WebhookHandler::Handle(const http::Request& request, http::Responder respond) {
  const absl::Time started = clock_.Now();
  std::string route_name = "unknown";
  std::variant<Outcome, Publication> decided = Process(request, route_name);
  if (Outcome* outcome = std::get_if<Outcome>(&decided)) {
    Report(route_name, *outcome, clock_.Now() - started);
    respond(std::move(outcome->response));
    return;
  }
  Publication publication = std::get<Publication>(std::move(decided));
  publication.route_name = std::move(route_name);
  publication.started = started;
  const messaging::OutboundMessage message = std::move(publication.message);
  const absl::Time publish_started = clock_.Now();
  publisher_.PublishAsync(
      message, [this, unsettled = TrackUnsettled(), publication = std::move(publication),
                publish_started, respond = std::move(respond)](absl::Status status) mutable {
        if (status.ok()) telemetry_.OnPublished(clock_.Now() - publish_started);
        Published(std::move(publication), status, std::move(respond));
      });
}

void WebhookHandler::Published(Publication publication, const absl::Status& status,
                               http::Responder respond) {
  if (status.ok()) {
    const absl::Duration latency = clock_.Now() - publication.started;
    respond(publication.success);
    auto settled = std::make_shared<const Publication>(std::move(publication));
    FollowUp([this, settled, latency] { Report(settled->route_name, Settle(*settled), latency); },
             [this, settled, latency] {
               // The event is durable; only a replay after the claim's lease could publish it
               // twice, and the status check reads its SID from Twilio, as without a ledger.
               Report(settled->route_name,
                      {settled->success, "accepted_unmarked", "webhook pool full"}, latency);
             });
    return;
  }
  // Twilio does not retry a status callback refused with 503, so its status may be lost: the
  // status checks are told to read Twilio (docs/adr/0014).
  if (publication.status_route) witness_.NoteLoss();
  auto refused = std::make_shared<const Outcome>(
      Outcome{RetryLater(), "kafka_unavailable", std::string(status.message())});
  auto released = std::make_shared<const Publication>(std::move(publication));
  auto answer = [this, refused, released, respond = std::move(respond)] {
    Report(released->route_name, *refused, clock_.Now() - released->started);
    respond(refused->response);
  };
  // Twilio's retry must be able to publish it, so the claim is released before the answer; if
  // the release fails (or the pool is full), the claim's lease ends. Also when Kafka may have
  // written it (kDeadlineExceeded): a second copy, dropped downstream by its dedupe key, is the
  // price of never losing a callback (docs/adr/0006).
  FollowUp(
      [this, released, answer] {
        dedupe_.Release(released->dedupe_keys).IgnoreError();
        answer();
      },
      answer);
}

WebhookHandler::Outcome WebhookHandler::Settle(const Publication& publication) {
  if (absl::Status marked = dedupe_.MarkPublished(publication.dedupe_keys, options_.dedupe_window);
      !marked.ok()) {
    // The event is durable; only a replay after the claim's lease could publish it twice.
    return {publication.success, "accepted_unmarked", std::string(marked.message())};
  }
  if (!publication.final_sid.empty()) {
    if (absl::Status recorded = witness_.RecordFinal(publication.final_sid); !recorded.ok()) {
      // The event is durable; the status check reads this SID from Twilio, as without a ledger.
      return {publication.success, "accepted_final_unrecorded", std::string(recorded.message())};
    }
  }
  return {publication.success, "accepted"};
}

void WebhookHandler::FollowUp(std::function<void()> work, std::function<void()> refused) {
  if (follow_ups_ == nullptr) return work();
  if (!follow_ups_->Submit([work = std::move(work), unsettled = TrackUnsettled()] { work(); })) {
    refused();
  }
}

void WebhookHandler::Report(std::string_view route_name, const Outcome& outcome,
                            absl::Duration latency) {
  telemetry_.OnAnswered(route_name, outcome.label, outcome.response.status, latency,
                        outcome.detail);
}

std::variant<WebhookHandler::Outcome, WebhookHandler::Publication> WebhookHandler::Process(
    const http::Request& request, std::string& route_name) {
  const std::optional<WebhookRoute> route = RouteForPath(request.path);
  if (!route) return Outcome{Plain(404, "no such webhook route\n"), "not_found", request.path};
  route_name = std::string(RouteName(*route));

  const std::optional<std::string> forwarded_for = request.Header("X-Forwarded-For");
  const std::string source = options_.trusted_proxies.ClientAddress(
      request.peer_address,
      forwarded_for ? std::optional<std::string_view>(*forwarded_for) : std::nullopt);
  if (!rate_limiter_.Allow(source)) {
    http::Response response = Plain(429, "too many requests from this address\n");
    response.headers.emplace_back("Retry-After", "1");
    return Outcome{std::move(response), "rate_limited"};
  }

  const bool is_get = request.method == "GET";
  if (!is_get && request.method != "POST") {
    http::Response response = Plain(405, "use POST or GET\n");
    response.headers.emplace_back("Allow", "GET, POST");
    return Outcome{std::move(response), "method_not_allowed", request.method};
  }
  if (request.body.size() > options_.max_body_bytes) {
    return Outcome{Plain(413, absl::StrCat("body over ", options_.max_body_bytes, " bytes\n")),
                   "too_large"};
  }

  // What Twilio signed: form parameters, or a JSON body through bodySHA256, or for a GET the URL.
  twilio::SignedRequest signed_request{.url = SignedUrl(request)};
  absl::StatusOr<http::FormParams> params;
  if (is_get) {
    params = http::DecodeForm(request.query);
  } else {
    const std::string media_type = MediaType(request.Header("Content-Type").value_or(""));
    if (media_type == kFormType) {
      params = http::DecodeForm(request.body);
      if (params.ok()) signed_request.params = *params;
    } else if (media_type == kJsonType) {
      params = DecodeJsonObject(request.body);
      signed_request.json_body = request.body;
    } else {
      return Outcome{Plain(415,
                           "Content-Type must be application/x-www-form-urlencoded or "
                           "application/json\n"),
                     "unsupported_media_type", media_type};
    }
  }
  if (!params.ok()) {
    return Outcome{Plain(400, absl::StrCat(std::string(params.status().message()), "\n")),
                   "bad_request", std::string(params.status().message())};
  }

  const std::string signature = request.Header("X-Twilio-Signature").value_or("");
  if (!twilio::VerifySignature(options_.auth_tokens, signed_request, signature)) {
    telemetry_.OnSignatureFailure(route_name);
    return Outcome{
        Plain(403, "forbidden\n"), "forbidden",
        signature.empty() ? "no X-Twilio-Signature" : "X-Twilio-Signature does not match"};
  }

  absl::StatusOr<http::FormParams> url_query = http::DecodeForm(request.query);
  if (!url_query.ok()) url_query = http::FormParams{};  // a GET's query was decoded above
  absl::StatusOr<InterpretedWebhook> webhook =
      InterpretWebhook({.route = *route,
                        .params = &*params,
                        .url_query = &*url_query,
                        .idempotency_token = request.Header("I-Twilio-Idempotency-Token"),
                        .received_at = clock_.Now()},
                       privacy_);
  if (!webhook.ok()) {
    return Outcome{Plain(400, absl::StrCat(std::string(webhook.status().message()), "\n")),
                   "bad_request", std::string(webhook.status().message())};
  }

  http::Response success =
      ExpectsTwiml(*route)
          ? http::Response{.status = 200, .content_type = "text/xml", .body = kEmptyTwiml}
          : http::Response{.status = 204};
  const auto unavailable = [](std::string label, const absl::Status& why) {
    return Outcome{RetryLater(), std::move(label), std::string(why.message())};
  };
  // Twilio does not retry a status callback refused with 503, so its status may be lost: the
  // status checks are told to read Twilio (docs/adr/0014).
  const auto lost = [&](std::string label, const absl::Status& why) {
    if (IsStatusRoute(*route)) witness_.NoteLoss();
    return unavailable(std::move(label), why);
  };

  // The event's own key (token, else SID) and a digest of exactly what the signature covers:
  // a replay that changes or drops the unsigned token still matches the second.
  const DedupeKeys dedupe_keys = {webhook->dedupe_key,
                                  SignedContentKey(request.target, signed_request.params)};
  absl::StatusOr<DedupeClaim> claim =
      dedupe_.Claim(dedupe_keys, options_.publish_timeout + kClaimMargin);
  if (!claim.ok()) return lost("dedupe_unavailable", claim.status());
  if (*claim == DedupeClaim::kAlreadyPublished) {
    telemetry_.OnDuplicate(route_name);
    return Outcome{std::move(success), "duplicate"};
  }
  if (*claim == DedupeClaim::kInFlight) {
    // Not a loss: the copy in flight is published, or its own refusal is noted.
    return unavailable("in_flight", absl::UnavailableError("the same callback is being published"));
  }

  return Publication{.status_route = IsStatusRoute(*route),
                     .dedupe_keys = dedupe_keys,
                     .final_sid = webhook->final_sid,
                     .message = {.topic = options_.topic,
                                 .key = webhook->partition_key,
                                 .value = webhook->event.SerializeAsString()},
                     .success = std::move(success)};
}

}  // namespace klaxon::ingress
