#include "common/caller_callbacks/callback_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace klaxon::caller_callbacks {
namespace {

// A part of a parsed URL, empty when it has none.
std::string PartOf(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string copy(value);
  curl_free(value);
  return copy;
}

// localhost, or an IP literal of the loopback range (never a name that merely starts "127.").
bool IsLoopback(const std::string& host) {
  if (absl::EqualsIgnoreCase(host, "localhost") || host == "[::1]") return true;
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

}  // namespace

absl::Status CheckCallbackUrl(std::string_view url, PlainHttp plain_http) {
  if (url.size() > kMaxUrlLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("the URL is ", url.size(), " bytes; at most ", kMaxUrlLength));
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (!parsed) return absl::ResourceExhaustedError("cannot allocate a URL parser");
  const std::string text(url);
  if (const CURLUcode code = curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0);
      code != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("the URL does not parse as an absolute URL (", curl_url_strerror(code), ")"));
  }
  const std::string scheme = absl::AsciiStrToLower(PartOf(parsed.get(), CURLUPART_SCHEME));
  const std::string host = PartOf(parsed.get(), CURLUPART_HOST);
  if (scheme != "https" && scheme != "http") {
    return absl::InvalidArgumentError("the URL must start with https://");
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL names no host");
  if (scheme == "http" && plain_http == PlainHttp::kLoopbackOnly && !IsLoopback(host)) {
    return absl::InvalidArgumentError(
        "the URL must start with https:// (plain http:// only to localhost, for local runs)");
  }
  return absl::OkStatus();
}

}  // namespace klaxon::caller_callbacks
