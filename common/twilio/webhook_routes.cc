#include "common/twilio/webhook_routes.h"

#include <string>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/http/form.h"

namespace klaxon::twilio {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsHostnameCharacter(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
}

}  // namespace

absl::Status CheckCallbackAuthority(std::string_view authority) {
  std::string_view host = authority;
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
  } else {
    const size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    if (host.empty()) return absl::InvalidArgumentError("has no host");
    for (const char c : host) {
      if (!IsHostnameCharacter(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "host \"", std::string(host), "\" has '", std::string(1, c),
            "': Twilio takes only letters, digits, '-' and '.' in a callback URL's host (it "
            "refuses every send with 21609 otherwise)"));
      }
    }
  }
  if (!port.empty()) {
    if (port.front() != ':')
      return absl::InvalidArgumentError("has something after ']' but a port");
    port.remove_prefix(1);
    if (port.empty() || port.size() > 5 || !absl::c_all_of(port, IsDigit)) {
      return absl::InvalidArgumentError("has a port that is not 1 to 5 digits after the host");
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
