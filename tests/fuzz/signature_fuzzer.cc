// Fuzzes Twilio's signature rules (common/twilio/signature.h, webhook_signature.h), which ingress
// applies to every webhook. The input is a URL, a newline, and a body used both as a form
// (decoded when it decodes, else split raw on '&' and '=') and as a JSON body. Checked beyond
// "does not crash":
//  - SignatureUrlVariants: the URL itself first; a second variant exactly when the URL starts
//    with scheme://, differing only in the authority by a ":digits" port removed or the scheme's
//    default port added;
//  - CanonicalSignedData: the URL, then key+value of each distinct pair in byte order (a std::set
//    rebuild), so independent of parameter order and of repeated pairs;
//  - a signature computed over any URL variant verifies, under the token alone or next to
//    another one (rotation), whatever the parameter order or repeats; another token, an altered
//    signature or an empty one never verifies;
//  - a JSON request verifies exactly when the URL's bodySHA256 is the body's hash, and always
//    when that hash is appended to a URL without a query.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/form.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_signature.h"
#include "tests/fuzz/fuzz_check.h"

namespace klaxon::fuzz {
namespace {

const std::string kToken = "12345";
const std::string kOtherToken = "another-auth-token";

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool IsScheme(std::string_view text) {
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (text.empty() || !alpha(text[0])) return false;
  return std::all_of(text.begin(), text.end(), [&alpha](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

bool IsDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool IsHttps(std::string_view scheme) {
  if (scheme.size() != 5) return false;
  for (size_t i = 0; i < 5; ++i) {
    const char c =
        scheme[i] >= 'A' && scheme[i] <= 'Z' ? static_cast<char>(scheme[i] + 32) : scheme[i];
    if (c != "https"[i]) return false;
  }
  return true;
}

void CheckUrlVariants(std::string_view url, const std::vector<std::string>& variants) {
  Require(!variants.empty() && variants[0] == url, "the first variant is the URL");
  const size_t separator = url.find("://");
  const bool absolute = separator != std::string_view::npos && IsScheme(url.substr(0, separator));
  Require(variants.size() == (absolute ? 2u : 1u), "a second variant iff the URL has a scheme");
  if (!absolute) return;

  const std::string_view scheme = url.substr(0, separator);
  const size_t start = separator + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const std::string_view authority = url.substr(start, end - start);
  const std::string_view rest = url.substr(end);
  const std::string_view variant = variants[1];
  Require(variant.substr(0, start) == url.substr(0, start) && EndsWith(variant, rest) &&
              variant.size() >= start + rest.size(),
          "a variant keeps scheme, path, query and fragment");
  const std::string_view other = variant.substr(start, variant.size() - start - rest.size());
  if (other.size() < authority.size()) {
    // Port removed: the authority was `other` + ":" + digits, after any userinfo and IPv6 host.
    Require(authority.substr(0, other.size()) == other && authority[other.size()] == ':' &&
                IsDigits(authority.substr(other.size() + 1)),
            "a shorter variant only lost a :port");
  } else {
    // No port to remove: no ':' followed by digits only after the userinfo and an IPv6 host.
    const size_t colon = authority.rfind(':');
    const size_t at = authority.rfind('@');
    const size_t bracket = authority.rfind(']');
    Require(colon == std::string_view::npos || (at != std::string_view::npos && colon < at) ||
                (bracket != std::string_view::npos && colon < bracket) ||
                !IsDigits(authority.substr(colon + 1)),
            "a port is removed, not added to");
    const std::string_view port = IsHttps(scheme) ? ":443" : ":80";
    Require(
        other.substr(0, authority.size()) == authority && other.substr(authority.size()) == port,
        "a longer variant only gained the scheme's default port");
  }
}

std::string SetCanonical(std::string_view url, const http::FormParams& params) {
  const std::set<std::pair<std::string, std::string>> distinct(params.begin(), params.end());
  std::string data(url);
  for (const auto& [key, value] : distinct) data.append(key).append(value);
  return data;
}

// Undecodable forms still make parameters: raw bytes are fine for the signature.
http::FormParams ParamsOf(std::string_view body) {
  absl::StatusOr<http::FormParams> decoded = http::DecodeForm(body);
  if (decoded.ok()) return *std::move(decoded);
  http::FormParams raw;
  size_t start = 0;
  while (start <= body.size()) {
    const size_t end = std::min(body.find('&', start), body.size());
    const std::string_view segment = body.substr(start, end - start);
    const size_t equals = std::min(segment.find('='), segment.size());
    raw.emplace_back(segment.substr(0, equals),
                     segment.substr(std::min(equals + 1, segment.size())));
    start = end + 1;
  }
  return raw;
}

// The same parameters reordered and with repeated pairs: all sign alike.
std::vector<http::FormParams> EquivalentParams(const http::FormParams& params) {
  http::FormParams reversed(params.rbegin(), params.rend());
  http::FormParams doubled = params;
  doubled.insert(doubled.end(), params.begin(), params.end());
  http::FormParams descending = params;
  std::sort(descending.begin(), descending.end(), std::greater<>());
  if (!params.empty()) descending.push_back(params.front());
  return {std::move(reversed), std::move(doubled), std::move(descending)};
}

bool Verify(const std::vector<std::string>& tokens, const twilio::SignedRequest& request,
            std::string_view signature) {
  return twilio::VerifySignature(tokens, request, signature);
}

void CheckCanonical(std::string_view url, const http::FormParams& params) {
  const std::string canonical = twilio::CanonicalSignedData(url, params);
  Require(canonical == SetCanonical(url, params),
          "canonical data is the URL and the distinct pairs in byte order");
  for (const http::FormParams& equivalent : EquivalentParams(params)) {
    Require(twilio::CanonicalSignedData(url, equivalent) == canonical,
            "canonical data ignores parameter order and repeated pairs");
  }
}

void CheckFormSignatures(std::string_view url, const std::vector<std::string>& variants,
                         const http::FormParams& params) {
  const twilio::SignedRequest request{.url = std::string(url), .params = params};
  Require(!Verify({kToken}, request, ""), "an empty signature never verifies");
  for (const std::string& variant : variants) {
    const std::string signature = twilio::ComputeSignature(kToken, variant, params);
    Require(signature.size() == 28, "a signature is 28 characters");
    Require(Verify({kToken}, request, signature), "a signature over any variant verifies");
    Require(Verify({kOtherToken, kToken}, request, signature), "any configured token verifies");
    Require(!Verify({kOtherToken}, request, signature), "another token does not verify");
    std::string altered = signature;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    Require(!Verify({kToken}, request, altered), "an altered signature does not verify");
    for (const http::FormParams& equivalent : EquivalentParams(params)) {
      Require(Verify({kToken}, {.url = std::string(url), .params = equivalent}, signature),
              "parameter order and repeated pairs do not change verification");
    }
  }
}

void CheckJsonSignatures(std::string_view url, const std::vector<std::string>& variants,
                         const http::FormParams& params, std::string_view body) {
  const std::string hash = twilio::BodySha256Hex(body);
  Require(hash.size() == 64 && hash.find_first_not_of("0123456789abcdef") == std::string::npos,
          "BodySha256Hex is 64 lowercase hex digits");
  // Form parameters next to a JSON body are ignored.
  const twilio::SignedRequest request{
      .url = std::string(url), .params = params, .json_body = std::string(body)};
  const bool hash_in_url = twilio::QueryParameter(url, "bodySHA256") == hash;
  for (const std::string& variant : variants) {
    Require(Verify({kToken}, request, twilio::ComputeSignature(kToken, variant, {})) == hash_in_url,
            "a JSON signature verifies iff the URL carries the body's hash");
  }
  if (url.find_first_of("?#") != std::string_view::npos) return;
  const std::string with_hash = std::string(url) + "?bodySHA256=" + hash;
  for (const std::string& variant : twilio::SignatureUrlVariants(with_hash)) {
    Require(Verify({kToken}, {.url = with_hash, .json_body = std::string(body)},
                   twilio::ComputeSignature(kToken, variant, {})),
            "a JSON body signed through its bodySHA256 verifies");
  }
}

void CheckSignatures(std::string_view input) {
  const size_t newline = std::min(input.find('\n'), input.size());
  const std::string_view url = input.substr(0, newline);
  const std::string_view body = input.substr(std::min(newline + 1, input.size()));
  const http::FormParams params = ParamsOf(body);

  const std::vector<std::string> variants = twilio::SignatureUrlVariants(url);
  CheckUrlVariants(url, variants);
  CheckCanonical(url, params);
  CheckFormSignatures(url, variants, params);
  CheckJsonSignatures(url, variants, params, body);
}

}  // namespace
}  // namespace klaxon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  klaxon::fuzz::CheckSignatures(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
