#include "services/ingress/webhook_handler.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
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
// timeout, so a live publish is not doubled while its settle steps keep up (ADR 0038 says what a
// longer settle backlog costs), and short, so Twilio's retry is not refused long.
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

// A port answered a batch with as many results as it was given: anything else is a bug.
void ExpectOnePerCallback(size_t results, size_t callbacks) {
  if (results != callbacks) std::abort();
}

// The answer when Klaxon itself cannot keep the event now (Redis or Kafka): Twilio may retry.
http::Response CannotKeep() {
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
  bool already_kept = false;  // a replay of an event published before

  // What the source sent that was refused on its merits (a 4xx, not the limit's own 429) or that
  // was kept already counts against its limit (ADR 0021); Klaxon's own failures (503) and new
  // events never do.
  bool TakesAToken() const {
    const int status = response.status;
    return already_kept || (status >= 400 && status < 500 && status != 429);
  }
};

// A verified callback on its way to Kafka: claimed, then published, then settled.
struct WebhookHandler::Publication {
  DedupeKeys keys;
  std::string claim_token = {};  // what Claim answered: a release drops only this claim
  messaging::OutboundMessage message;
  std::string final_sid;  // the Twilio SID whose final status this is, if it is one
  bool status_route = false;
  bool consent_change = false;  // an opt-out or opt-in: remembered for consent_dedupe_window
  http::Response success;
  std::string route_name = {};
  std::string source = {};  // the client address the per-source limit counts
  absl::Time started = {};  // when it was taken from the queue, for the answer's latency
  http::Responder answer = {};

  HeldClaim Held() const { return {.keys = keys, .token = claim_token}; }
};

// A publication Kafka answered, for the steps after it.
struct WebhookHandler::Settled {
  Publication publication;
  absl::Status published;
  absl::Duration latency;  // to the answer (2xx), or to Kafka's refusal
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
  if (options_.settle_threads > 0) {
    settle_ = std::make_unique<concurrency::BatchWorkers<Settled>>(
        concurrency::BatchWorkersOptions{.threads = options_.settle_threads,
                                         .max_batch = kMaxSettleBatch,
                                         .max_queued = options_.max_publishing},
        [this](std::vector<Settled> batch) { Settle(std::move(batch)); });
  }
}

// settle_, the last member, is destroyed first: it works off its queue meanwhile.
WebhookHandler::~WebhookHandler() = default;

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
  if (options_.public_url_from_proxy && options_.trusted_proxies.Trusts(request.peer_address)) {
    if (auto proto = request.Header("X-Forwarded-Proto"); proto && !FirstEntry(*proto).empty()) {
      scheme = FirstEntry(*proto);
    }
    if (auto host = request.Header("X-Forwarded-Host"); host && !FirstEntry(*host).empty()) {
      authority = FirstEntry(*host);
    }
  }
  return absl::StrCat(scheme, "://", authority, options_.public_url.prefix, request.target);
}

void WebhookHandler::Handle(std::vector<WebhookCall> calls) {
  std::vector<Publication> verified;
  for (WebhookCall& call : calls) {
    const absl::Time started = clock_.Now();
    const std::optional<std::string> forwarded_for = call.request.HeaderList("X-Forwarded-For");
    std::string source = options_.trusted_proxies.ClientAddress(
        call.request.peer_address,
        forwarded_for ? std::optional<std::string_view>(*forwarded_for) : std::nullopt);
    std::string route_name = "unknown";
    std::variant<Outcome, Publication> prepared = Prepare(call.request, route_name);
    if (Outcome* outcome = std::get_if<Outcome>(&prepared)) {
      // A source over its limit of refusals is told to slow down; a signed callback is heard
      // whatever its source's bucket (ADR 0021): Twilio's addresses are every Twilio account's.
      if (outcome->TakesAToken() && !rate_limiter_.Allows(source)) {
        http::Response response = Plain(429, "too many refused requests from this address\n");
        response.headers.emplace_back("Retry-After", "1");
        *outcome = Outcome{std::move(response), "rate_limited"};
      }
      Finish(std::move(*outcome), source, route_name, started, call.answer);
      continue;
    }
    Publication& publication = verified.emplace_back(std::get<Publication>(std::move(prepared)));
    publication.route_name = std::move(route_name);
    publication.source = std::move(source);
    publication.started = started;
    publication.answer = std::move(call.answer);
  }
  if (verified.empty()) return;
  // One round trip claims the whole batch.
  std::vector<DedupeKeys> keys;
  keys.reserve(verified.size());
  for (const Publication& publication : verified) keys.push_back(publication.keys);
  std::vector<absl::StatusOr<ClaimAnswer>> claims =
      dedupe_.Claim(keys, options_.publish_timeout + kClaimMargin);
  ExpectOnePerCallback(claims.size(), verified.size());
  std::vector<Publication*> over_bound;
  for (size_t i = 0; i < verified.size(); ++i) {
    Publication& publication = verified[i];
    if (std::optional<Outcome> refused = Unclaimed(publication, claims[i])) {
      Finish(*std::move(refused), publication.source, publication.route_name, publication.started,
             publication.answer);
    } else if (publishing_.fetch_add(1) >= options_.max_publishing) {
      --publishing_;
      over_bound.push_back(&publication);
    } else {
      Publish(std::move(publication));
    }
  }
  if (!over_bound.empty()) RefuseOverBound(over_bound);
}

void WebhookHandler::RefuseOverBound(const std::vector<Publication*>& refused) {
  std::vector<HeldClaim> claims;
  for (const Publication* publication : refused) claims.push_back(publication->Held());
  (void)dedupe_.Release(claims);  // a claim not released ends with its lease
  const std::string why =
      absl::StrCat(options_.max_publishing, " callbacks are already waiting for Kafka's answer");
  for (Publication* publication : refused) {
    // Twilio does not retry a status callback refused with 503 (see Unclaimed).
    if (publication->status_route) witness_.NoteLoss();
    Finish(Outcome{CannotKeep(), "kafka_backlog", why}, publication->source,
           publication->route_name, publication->started, publication->answer);
  }
}

void WebhookHandler::Finish(Outcome outcome, std::string_view source, std::string_view route_name,
                            absl::Time started, const http::Responder& answer) {
  if (outcome.TakesAToken()) rate_limiter_.Charge(source);
  telemetry_.OnAnswered(route_name, outcome.label, outcome.response.status, clock_.Now() - started,
                        outcome.detail);
  answer(std::move(outcome.response));
}

std::variant<WebhookHandler::Outcome, WebhookHandler::Publication> WebhookHandler::Prepare(
    const http::Request& request, std::string& route_name) {
  const std::optional<WebhookRoute> route = RouteForPath(request.path);
  if (!route) return Outcome{Plain(404, "no such webhook route\n"), "not_found", request.path};
  route_name = std::string(RouteName(*route));

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
  if (!twilio::VerifySignature(TokensFor(*params), signed_request, signature)) {
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
  if (!webhook->answerable_at.empty()) {
    if (std::optional<std::string> reply = options_.auto_replies.For(webhook->answerable_at)) {
      success.body = ReplyTwiml(*reply);
    }
  }
  // The event's own key (token, else SID) and a digest of exactly what the signature covers:
  // a replay that changes or drops the unsigned token still matches the second.
  return Publication{
      .keys = {webhook->dedupe_key, SignedContentKey(request.target, signed_request.params)},
      .message = {.topic = options_.topic,
                  .key = webhook->partition_key,
                  .value = webhook->event.SerializeAsString()},
      .final_sid = webhook->final_sid,
      .status_route = IsStatusRoute(*route),
      .consent_change = webhook->event.has_opt_out() || webhook->event.has_opt_in(),
      .success = std::move(success)};
}

std::optional<WebhookHandler::Outcome> WebhookHandler::Unclaimed(
    Publication& publication, const absl::StatusOr<ClaimAnswer>& claim) {
  if (!claim.ok()) {
    // Twilio does not retry a status callback refused with 503, so its status may be lost: the
    // status checks are told to read Twilio (docs/adr/0014). So on every 503 below.
    if (publication.status_route) witness_.NoteLoss();
    return Outcome{CannotKeep(), "dedupe_unavailable", std::string(claim.status().message())};
  }
  if (claim->outcome == DedupeClaim::kAlreadyPublished) {
    telemetry_.OnDuplicate(publication.route_name);
    return Outcome{
        .response = std::move(publication.success), .label = "duplicate", .already_kept = true};
  }
  if (claim->outcome == DedupeClaim::kInFlight) {
    // Not a loss: the copy in flight is published, or its own refusal is noted.
    return Outcome{CannotKeep(), "in_flight", "the same callback is being published"};
  }
  publication.claim_token = claim->token;
  return std::nullopt;
}

void WebhookHandler::Publish(Publication publication) {
  const absl::Time publish_started = clock_.Now();
  const messaging::OutboundMessage message = std::move(publication.message);
  publisher_.PublishAsync(message, [this, publication = std::move(publication),
                                    publish_started](absl::Status published) mutable {
    const absl::Time acknowledged = clock_.Now();
    if (published.ok()) {
      telemetry_.OnPublished(acknowledged - publish_started);
      publication.answer(publication.success);
    }
    const absl::Duration latency = acknowledged - publication.started;
    Settled settled{.publication = std::move(publication),
                    .published = std::move(published),
                    .latency = latency};
    if (settle_ == nullptr) {  // unit tests: their fakes answer at once
      std::vector<Settled> alone;
      alone.push_back(std::move(settled));
      Settle(std::move(alone));
    } else if (!settle_->Submit(settled)) {
      SettleWithoutRedis(settled);  // this thread must never wait on Redis
    }
    --publishing_;
  });
}

void WebhookHandler::SettleWithoutRedis(Settled& settled) {
  const Publication& publication = settled.publication;
  if (settled.published.ok()) {
    // Durable and answered; a replay is refused as in flight until the claim's lease ends, then
    // published again and dropped downstream by its dedupe key (docs/adr/0006).
    telemetry_.OnAnswered(publication.route_name, "accepted_unmarked", publication.success.status,
                          settled.latency, "the settle queue is full");
    return;
  }
  // Twilio does not retry a status callback refused with 503 (see Unclaimed). The claim ends with
  // its lease.
  if (publication.status_route) witness_.NoteLoss();
  http::Response response = CannotKeep();
  telemetry_.OnAnswered(publication.route_name, "kafka_unavailable", response.status,
                        settled.latency, std::string(settled.published.message()));
  publication.answer(std::move(response));
}

void WebhookHandler::Settle(std::vector<Settled> batch) {
  std::vector<Settled*> kept;
  std::vector<Settled*> failed;
  for (Settled& settled : batch) (settled.published.ok() ? kept : failed).push_back(&settled);
  if (!failed.empty()) Refuse(failed);
  if (!kept.empty()) Keep(kept);
}

std::vector<absl::Status> WebhookHandler::MarkPublished(const std::vector<Settled*>& kept) {
  std::vector<absl::Status> marks(kept.size());
  for (const bool consent : {false, true}) {
    std::vector<DedupeKeys> keys;
    std::vector<size_t> places;
    for (size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]->publication.consent_change != consent) continue;
      keys.push_back(kept[i]->publication.keys);
      places.push_back(i);
    }
    if (keys.empty()) continue;
    const std::vector<absl::Status> marked = dedupe_.MarkPublished(
        keys, consent ? options_.consent_dedupe_window : options_.dedupe_window);
    ExpectOnePerCallback(marked.size(), keys.size());
    for (size_t j = 0; j < keys.size(); ++j) marks[places[j]] = marked[j];
  }
  return marks;
}

void WebhookHandler::Keep(const std::vector<Settled*>& kept) {
  // Marked published in one round trip, then their final statuses recorded in one.
  const std::vector<absl::Status> marks = MarkPublished(kept);
  std::vector<std::string> labels(kept.size(), "accepted");
  std::vector<std::string> details(kept.size());
  std::vector<std::string> finals;
  std::vector<size_t> final_of;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!marks[i].ok()) {
      // The event is durable; only a replay after the claim's lease could publish it twice.
      labels[i] = "accepted_unmarked";
      details[i] = std::string(marks[i].message());
    } else if (!kept[i]->publication.final_sid.empty()) {
      finals.push_back(kept[i]->publication.final_sid);
      final_of.push_back(i);
    }
  }
  if (!finals.empty()) {
    const std::vector<absl::Status> recorded = witness_.RecordFinal(finals);
    ExpectOnePerCallback(recorded.size(), finals.size());
    for (size_t j = 0; j < finals.size(); ++j) {
      if (recorded[j].ok()) continue;
      // The event is durable; the status check reads this SID from Twilio, as without a ledger.
      labels[final_of[j]] = "accepted_final_unrecorded";
      details[final_of[j]] = std::string(recorded[j].message());
    }
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    const Publication& publication = kept[i]->publication;
    telemetry_.OnAnswered(publication.route_name, labels[i], publication.success.status,
                          kept[i]->latency, details[i]);
  }
}

void WebhookHandler::Refuse(const std::vector<Settled*>& failed) {
  // Twilio's retry must be able to publish them; a claim not released ends with its lease. Also
  // when Kafka may have written one (kDeadlineExceeded): a second copy, dropped downstream by its
  // dedupe key, is the price of never losing a callback (docs/adr/0006).
  std::vector<HeldClaim> claims;
  for (const Settled* settled : failed) claims.push_back(settled->publication.Held());
  (void)dedupe_.Release(claims);
  for (Settled* settled : failed) {
    Publication& publication = settled->publication;
    // Twilio does not retry a status callback refused with 503 (see Unclaimed).
    if (publication.status_route) witness_.NoteLoss();
    http::Response response = CannotKeep();
    telemetry_.OnAnswered(publication.route_name, "kafka_unavailable", response.status,
                          settled->latency, std::string(settled->published.message()));
    publication.answer(std::move(response));
  }
}

void WebhookHandler::Drain() {
  if (settle_ != nullptr) settle_->Drain();
}

}  // namespace klaxon::ingress
