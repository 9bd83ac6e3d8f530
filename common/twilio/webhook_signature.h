#pragma once
// Verifying X-Twilio-Signature on a received webhook, every rule of ../shared/twilio/TWILIO.md:
// the signature may be over the URL as requested, with its port removed or with the scheme's
// default port added; a JSON body is signed through the URL's bodySHA256 parameter; a GET is
// signed over its URL alone; several auth tokens (primary and secondary, during a rotation) are
// tried; comparisons take the same time wherever the inputs differ.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/twilio/signature.h"

namespace klaxon::twilio {

// What Twilio signed, as ingress received it.
struct SignedRequest {
  // The full URL Twilio requested, query string included and percent-encoded as sent.
  std::string url{};
  // The decoded POST form parameters, every one of them; empty for a GET or a JSON body.
  FormParams params{};
  // The raw body of an application/json request; its hash must be the URL's bodySHA256.
  std::optional<std::string> json_body{};
};

// The URLs a signature of `url` may have been computed over, `url` itself first: then `url` with
// its port removed when it has one, or with :443 (https) or :80 (any other scheme) added when it
// has none. Only the URL as given when it does not start with scheme://authority.
std::vector<std::string> SignatureUrlVariants(std::string_view url);

// Lowercase hex SHA-256 of `body`: the bodySHA256 value of a JSON webhook.
std::string BodySha256Hex(std::string_view body);

// The decoded value of the first query parameter `name` in `url`; nullopt when absent or when
// the query cannot be decoded.
std::optional<std::string> QueryParameter(std::string_view url, std::string_view name);

// True when `signature` is Twilio's signature of `request` under any of `auth_tokens` and any
// URL variant, and, for a JSON body, the URL's bodySHA256 is the body's hash. Every candidate is
// computed and compared, so the time taken does not depend on which one (if any) matched. A
// missing signature is an empty one and never matches.
bool VerifySignature(std::span<const std::string> auth_tokens, const SignedRequest& request,
                     std::string_view signature);

}  // namespace klaxon::twilio
