#include "common/twilio/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace klaxon::twilio {
namespace {

// The parts of an absolute URL that port handling needs: where the host's port (":NNN") sits.
struct Authority {
  std::string_view scheme;
  size_t host_end = 0;  // index just after the host (before ":port", if any)
  size_t end = 0;       // index just after the authority (start of path, query or end)
  bool has_port = false;
};

// RFC 3986: a letter, then letters, digits, '+', '-' or '.'.
bool IsScheme(std::string_view text) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (text.empty() || !letter(text[0])) return false;
  return std::all_of(text.begin(), text.end(), [&letter](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

std::optional<Authority> FindAuthority(std::string_view url) {
  // Only a "://" that ends a scheme starts an authority; one inside a relative URL's query
  // ("/x?next=http://h:80/") is data and must not be rewritten.
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || !IsScheme(url.substr(0, scheme_end))) {
    return std::nullopt;
  }
  const size_t start = scheme_end + 3;
  Authority authority{.scheme = url.substr(0, scheme_end)};
  authority.end = std::min(url.find_first_of("/?#", start), url.size());
  // Userinfo (user:pass@) stays as it is; the host starts after the last '@'.
  const std::string_view whole = url.substr(start, authority.end - start);
  const size_t at = whole.rfind('@');
  const size_t host_start = start + (at == std::string_view::npos ? 0 : at + 1);
  const std::string_view host_and_port = url.substr(host_start, authority.end - host_start);
  // An IPv6 literal ends with ']'; a port is a ':' after it followed by digits only.
  const size_t bracket = host_and_port.rfind(']');
  const size_t colon = host_and_port.rfind(':');
  authority.host_end = authority.end;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const std::string_view port = host_and_port.substr(colon + 1);
    const bool digits = port.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      authority.has_port = true;
      authority.host_end = host_start + colon;
    }
  }
  return authority;
}

bool EqualsAsciiCaseInsensitive(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> SignatureUrlVariants(std::string_view url) {
  std::vector<std::string> variants{std::string(url)};
  const std::optional<Authority> authority = FindAuthority(url);
  if (!authority) return variants;
  if (authority->has_port) {
    std::string without_port(url.substr(0, authority->host_end));
    without_port.append(url.substr(authority->end));
    variants.push_back(std::move(without_port));
  } else {
    const char* port = EqualsAsciiCaseInsensitive(authority->scheme, "https") ? ":443" : ":80";
    std::string with_port(url.substr(0, authority->end));
    with_port.append(port).append(url.substr(authority->end));
    variants.push_back(std::move(with_port));
  }
  return variants;
}

std::string BodySha256Hex(std::string_view body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (const unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0x0F]);
  }
  return hex;
}

std::optional<std::string> QueryParameter(std::string_view url, std::string_view name) {
  const size_t question = url.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(question + 1);
  query = query.substr(0, std::min(query.find('#'), query.size()));
  absl::StatusOr<FormParams> params = http::DecodeForm(query);
  if (!params.ok()) return std::nullopt;
  for (auto& [key, value] : *params) {
    if (key == name) return std::move(value);
  }
  return std::nullopt;
}

bool VerifySignature(std::span<const std::string> auth_tokens, const SignedRequest& request,
                     std::string_view signature) {
  static const FormParams kNoParams;
  const FormParams& params = request.json_body ? kNoParams : request.params;
  bool matched = false;
  for (const std::string& url : SignatureUrlVariants(request.url)) {
    for (const std::string& token : auth_tokens) {
      // Non-short-circuit OR: every candidate is compared.
      matched |= SignatureMatches(ComputeSignature(token, url, params), signature);
    }
  }
  if (request.json_body) {
    const std::optional<std::string> claimed = QueryParameter(request.url, "bodySHA256");
    const bool body_matches =
        claimed.has_value() && SignatureMatches(BodySha256Hex(*request.json_body), *claimed);
    matched = matched && body_matches;
  }
  return matched && !signature.empty();
}

}  // namespace klaxon::twilio
