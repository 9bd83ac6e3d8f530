#include "services/ingress/webhook_handler.h"

#include <algorithm>
#include <cctype>
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

}  // namespace

std::string SignedContentKey(std::string_view target, const http::FormParams& signed_params) {
  return absl::StrCat("signed:",
                      twilio::BodySha256Hex(twilio::CanonicalSignedData(target, signed_params)));
}

struct WebhookHandler::Outcome {
  http::Response response;
  std::string label;
  std::string detail{};
  bool already_kept = false;  // a replay of an event published before

  // What the source sent that was refused on its merits (a 4xx, not the limit's own 429) or that
  // was kept already counts against its limit (ADR 0021); Klaxon's own failures (503) and new
  // events never do.
  bool TakesAToken() const {
    const int status = response.status;
    return already_kept || (status >= 400 && status < 500 && status != 429);
  }
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
      clock_(clock) {}

const std::vector<std::string>& WebhookHandler::TokensFor(const http::FormParams& params) const {
  static const std::vector<std::string> kNone;
  if (options_.account_tokens.empty()) return options_.auth_tokens;
  const auto account_sid = std::find_if(
      params.begin(), params.end(), [](const auto& param) { return param.first == "AccountSid"; });
  if (account_sid == params.end()) return kNone;
  const auto tokens = options_.account_tokens.find(account_sid->second);
  return tokens == options_.account_tokens.end() ? kNone : tokens->second;
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

http::Response WebhookHandler::Handle(const http::Request& request) {
  const absl::Time started = clock_.Now();
  const std::optional<std::string> forwarded_for = request.Header("X-Forwarded-For");
  const std::string source = options_.trusted_proxies.ClientAddress(
      request.peer_address,
      forwarded_for ? std::optional<std::string_view>(*forwarded_for) : std::nullopt);
  std::string route_name = "unknown";
  Outcome outcome = Process(request, source, route_name);
  if (outcome.TakesAToken()) rate_limiter_.Charge(source);
  telemetry_.OnAnswered(route_name, outcome.label, outcome.response.status, clock_.Now() - started,
                        outcome.detail);
  return std::move(outcome.response);
}

WebhookHandler::Outcome WebhookHandler::Process(const http::Request& request,
                                                std::string_view source, std::string& route_name) {
  const std::optional<WebhookRoute> route = RouteForPath(request.path);
  if (!route) return {Plain(404, "no such webhook route\n"), "not_found", request.path};
  route_name = std::string(RouteName(*route));

  if (!rate_limiter_.Allows(source)) {
    http::Response response = Plain(429, "too many refused requests from this address\n");
    response.headers.emplace_back("Retry-After", "1");
    return {std::move(response), "rate_limited"};
  }

  const bool is_get = request.method == "GET";
  if (!is_get && request.method != "POST") {
    http::Response response = Plain(405, "use POST or GET\n");
    response.headers.emplace_back("Allow", "GET, POST");
    return {std::move(response), "method_not_allowed", request.method};
  }
  if (request.body.size() > options_.max_body_bytes) {
    return {Plain(413, absl::StrCat("body over ", options_.max_body_bytes, " bytes\n")),
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
      return {Plain(415,
                    "Content-Type must be application/x-www-form-urlencoded or "
                    "application/json\n"),
              "unsupported_media_type", media_type};
    }
  }
  if (!params.ok()) {
    return {Plain(400, absl::StrCat(std::string(params.status().message()), "\n")), "bad_request",
            std::string(params.status().message())};
  }

  const std::string signature = request.Header("X-Twilio-Signature").value_or("");
  if (!twilio::VerifySignature(TokensFor(*params), signed_request, signature)) {
    telemetry_.OnSignatureFailure(route_name);
    return {Plain(403, "forbidden\n"), "forbidden",
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
    return {Plain(400, absl::StrCat(std::string(webhook.status().message()), "\n")), "bad_request",
            std::string(webhook.status().message())};
  }

  http::Response success =
      ExpectsTwiml(*route)
          ? http::Response{.status = 200, .content_type = "text/xml", .body = kEmptyTwiml}
          : http::Response{.status = 204};
  if (!webhook->answerable_at.empty()) {
    if (std::optional<std::string> reply = options_.auto_replies.For(webhook->answerable_at)) {
      success.body = ReplyTwiml(*reply);
    }
  }
  const auto unavailable = [](std::string label, const absl::Status& why) {
    http::Response response = Plain(503, "cannot keep this event right now; retry\n");
    response.headers.emplace_back("Retry-After", "1");
    return Outcome{std::move(response), std::move(label), std::string(why.message())};
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
    return {.response = std::move(success), .label = "duplicate", .already_kept = true};
  }
  if (*claim == DedupeClaim::kInFlight) {
    // Not a loss: the copy in flight is published, or its own refusal is noted.
    return unavailable("in_flight", absl::UnavailableError("the same callback is being published"));
  }

  const absl::Time publish_started = clock_.Now();
  const absl::Status published = publisher_.Publish({.topic = options_.topic,
                                                     .key = webhook->partition_key,
                                                     .value = webhook->event.SerializeAsString()},
                                                    options_.publish_timeout);
  if (!published.ok()) {
    // Twilio's retry must be able to publish it; if this release fails, the claim's lease ends.
    // Also when Kafka may have written it (kDeadlineExceeded): a second copy, dropped downstream
    // by its dedupe key, is the price of never losing a callback (docs/adr/0006).
    dedupe_.Release(dedupe_keys).IgnoreError();
    return lost("kafka_unavailable", published);
  }
  telemetry_.OnPublished(clock_.Now() - publish_started);
  if (absl::Status marked = dedupe_.MarkPublished(dedupe_keys, options_.dedupe_window);
      !marked.ok()) {
    // The event is durable; only a replay after the claim's lease could publish it twice.
    return {std::move(success), "accepted_unmarked", std::string(marked.message())};
  }
  if (!webhook->final_sid.empty()) {
    if (absl::Status recorded = witness_.RecordFinal(webhook->final_sid); !recorded.ok()) {
      // The event is durable; the status check reads this SID from Twilio, as without a ledger.
      return {std::move(success), "accepted_final_unrecorded", std::string(recorded.message())};
    }
  }
  return {std::move(success), "accepted"};
}

}  // namespace klaxon::ingress
