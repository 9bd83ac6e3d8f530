#include "common/twilio/webhook_routes.h"

#include <algorithm>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http/form.h"

namespace klaxon::twilio {

namespace {

// absl's ascii classes take an unsigned char; a URL's bytes come as char.
bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }
bool IsHexDigit(char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); }
bool IsHostnameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

}  // namespace

absl::Status CheckCallbackAuthority(std::string_view authority) {
  // user:password@ is Twilio's to send as Basic auth (and stays in the signed URL); it is not
  // checked, nor ever repeated in an error.
  std::string_view host = authority.substr(authority.rfind('@') + 1);
  std::string_view port;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("has an unclosed '['");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (host.empty() ||
        !absl::c_all_of(host, [](char c) { return IsHexDigit(c) || c == ':' || c == '.'; })) {
      return absl::InvalidArgumentError("has a bad IPv6 address between '[' and ']'");
    }
    if (!port.empty() && port.front() != ':') {
      return absl::InvalidArgumentError("has something after ']' but a port");
    }
  } else {
    port = host.substr(std::min(host.find(':'), host.size()));
    host = host.substr(0, host.size() - port.size());
    if (host.empty()) return absl::InvalidArgumentError("has no host");
    if (const auto bad = absl::c_find_if_not(host, IsHostnameCharacter); bad != host.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "has a host with '", std::string(1, *bad),
          "': Twilio takes only letters, digits, '-' and '.' in a callback URL's host (it "
          "refuses every send with 21609 otherwise)"));
    }
  }
  if (!port.empty()) {
    port.remove_prefix(1);  // the ':'
    int number = 0;
    if (port.empty() || port.size() > 5 || !absl::c_all_of(port, IsDigit) ||
        !absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &number) || number < 1 ||
        number > 65535) {
      return absl::InvalidArgumentError("has a port that is not a number from 1 to 65535");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PublicBaseUrl> ParsePublicBaseUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return absl::InvalidArgumentError("must start with http:// or https://");
  }
  PublicBaseUrl parsed{.scheme = std::string(url.substr(0, scheme_end))};
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return absl::InvalidArgumentError("must start with http:// or https://");
  }
  const std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return absl::InvalidArgumentError("must not have a query or fragment");
  }
  const size_t slash = rest.find('/');
  parsed.authority = std::string(rest.substr(0, slash));
  if (parsed.authority.empty()) return absl::InvalidArgumentError("has no host");
  if (absl::Status authority = CheckCallbackAuthority(parsed.authority); !authority.ok())
    return authority;
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    parsed.prefix = std::string(prefix);
  }
  return parsed;
}

std::string CallbackUrl(std::string_view public_base_url, std::string_view path,
                        std::string_view alert_id, uint32_t attempt) {
  while (!public_base_url.empty() && public_base_url.back() == '/') {
    public_base_url.remove_suffix(1);
  }
  std::string url(public_base_url);
  url.append(path).append("?");
  url.append(http::EncodeForm({{std::string(kAlertIdParameter), std::string(alert_id)},
                               {std::string(kAttemptParameter), std::to_string(attempt)}}));
  return url;
}

}  // namespace klaxon::twilio
