#include "common/twilio/webhook_routes.h"

#include "absl/status/status.h"
#include "common/http/form.h"

namespace klaxon::twilio {

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
