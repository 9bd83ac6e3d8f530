#include "common/twilio/base_url.h"

#include <curl/curl.h>

#include <memory>
#include <string>

#include "common/config/loopback.h"

namespace klaxon::twilio {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlFree {
  void operator()(char* text) const { curl_free(text); }
};

}  // namespace

absl::Status CheckBaseUrl(std::string_view base_url) {
  const std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  char* scheme = nullptr;
  char* host = nullptr;
  const std::string text(base_url);
  const bool parsed = url != nullptr &&
                      curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) == CURLUE_OK &&
                      curl_url_get(url.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                      curl_url_get(url.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK;
  const std::unique_ptr<char, CurlFree> scheme_owner(scheme);
  const std::unique_ptr<char, CurlFree> host_owner(host);
  if (!parsed) return absl::InvalidArgumentError("is not a URL with a host");
  const std::string_view scheme_text(scheme);
  if (scheme_text == "https") return absl::OkStatus();
  std::string_view host_text(host);
  if (host_text.starts_with('[') && host_text.ends_with(']')) {  // an IPv6 literal
    host_text = host_text.substr(1, host_text.size() - 2);
  }
  if (scheme_text == "http" && config::IsLoopbackHost(host_text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "must be https; plain http only to a loopback address such as the local Twilio sandbox "
      "(http://127.0.0.1:PORT)");
}

}  // namespace klaxon::twilio
