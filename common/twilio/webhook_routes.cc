#include "common/twilio/webhook_routes.h"

#include "common/http/form.h"

namespace klaxon::twilio {

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
