#include "bench/status_callbacks.h"

#include <cstddef>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/abseil/string_view.h"
#include "common/ids/uuid.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_routes.h"

namespace klaxon::bench {
namespace {

using abseil::AbslView;

// The sender every callback names, and the recipients' prefix (Twilio's 555 test range).
constexpr std::string_view kFrom = "+14155550100";
constexpr std::string_view kToPrefix = "+1415555";
// 30003: "Unreachable destination handset", the commonest reason a message ends undelivered.
constexpr std::string_view kUndeliveredErrorCode = "30003";

std::string RandomHex32(absl::BitGenRef gen) {
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

absl::Status BadUrl(std::string_view url, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--url \"", AbslView(url), "\" ", AbslView(problem),
      ": give ingress's own address as http://host:port (the public URL Twilio signs goes in "
      "--public-url)"));
}

}  // namespace

absl::StatusOr<WebhookTarget> ParseWebhookUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!absl::StartsWithIgnoreCase(AbslView(url), AbslView(kScheme))) {
    return BadUrl(url, "is not plain http://");
  }
  std::string_view authority = url.substr(kScheme.size());
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.empty()) return BadUrl(url, "has no host");
  if (authority.find_first_of("/?#@") != std::string_view::npos) {
    return BadUrl(url, "has a path, query or user name");
  }
  WebhookTarget target{.authority = std::string(authority),
                       .origin = absl::StrCat(AbslView(kScheme), AbslView(authority))};
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "has an unclosed IPv6 bracket");
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return BadUrl(url, "has something after the IPv6 address");
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return BadUrl(url, "has no host");
  if (!port.empty() || authority.back() == ':') {
    uint32_t number = 0;
    if (!absl::SimpleAtoi(AbslView(port), &number) || number == 0 || number > 65535) {
      return BadUrl(url, "has a port that is not 1 to 65535");
    }
    target.port = static_cast<uint16_t>(number);
  }
  target.host = std::string(host);
  return target;
}

StatusCallback RandomStatusCallback(std::string_view account_sid, absl::Time now,
                                    absl::BitGenRef gen) {
  // Most messages report "sent" and then "delivered"; a few end "undelivered".
  const double draw = absl::Uniform(gen, 0.0, 1.0);
  const std::string_view status = draw < 0.48 ? "sent" : draw < 0.95 ? "delivered" : "undelivered";
  const std::string_view error_code = status == "undelivered" ? kUndeliveredErrorCode : "";
  const std::string sid = absl::StrCat("SM", RandomHex32(gen));
  return StatusCallback{
      .alert_id = ids::NewUuidV7(now, gen),
      .attempt = 1,
      .idempotency_token = RandomHex32(gen),
      .params = {{"MessageSid", sid},
                 {"MessageStatus", std::string(status)},
                 {"AccountSid", std::string(account_sid)},
                 {"From", std::string(kFrom)},
                 {"To", absl::StrFormat("%s%04d", AbslView(kToPrefix),
                                        absl::Uniform<int>(gen, 0, 10'000))},
                 {"ErrorCode", std::string(error_code)}},
  };
}

std::string StatusCallbackRequest(const StatusCallback& callback,
                                  const CallbackRequestOptions& options) {
  // The request target is the callback URL on an empty base; ingress puts its public URL in front
  // of it, and so does the signature.
  const std::string target =
      twilio::CallbackUrl("", twilio::kMessageStatusPath, callback.alert_id, callback.attempt);
  const std::string signed_url = twilio::CallbackUrl(options.public_url, twilio::kMessageStatusPath,
                                                     callback.alert_id, callback.attempt);
  const std::string body = http::EncodeForm(callback.params);
  return absl::StrCat(
      "POST ", target, " HTTP/1.1\r\nHost: ", options.authority,
      "\r\nUser-Agent: TwilioProxy/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: ",
      body.size(), "\r\nX-Twilio-Signature: ",
      twilio::ComputeSignature(options.auth_token, signed_url, callback.params),
      "\r\nI-Twilio-Idempotency-Token: ", callback.idempotency_token, "\r\n\r\n", body);
}

RequestPlan PlanStatusCallbacks(int64_t count, const PlanOptions& options, absl::Time now,
                                absl::BitGenRef gen) {
  RequestPlan plan;
  plan.requests.reserve(static_cast<std::size_t>(count));
  plan.replay.reserve(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const bool replay = i >= options.replay_distance && options.replay_fraction > 0 &&
                        absl::Bernoulli(gen, options.replay_fraction);
    if (replay) {
      plan.requests.push_back(plan.requests[static_cast<std::size_t>(i - options.replay_distance)]);
      ++plan.replays;
    } else {
      plan.requests.push_back(StatusCallbackRequest(
          RandomStatusCallback(options.account_sid, now, gen), options.request));
    }
    plan.replay.push_back(replay);
  }
  return plan;
}

}  // namespace klaxon::bench
