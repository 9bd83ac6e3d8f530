#include "tests/support/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace klaxon::testing {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// One "Name: value\r\n" line per call; the status line and the blank line end up ignored.
size_t AppendHeader(char* data, size_t size, size_t count, void* out) {
  const std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
    std::string value(absl::StripAsciiWhitespace(
        absl::string_view(line.data() + colon + 1, line.size() - colon - 1)));
    headers->emplace_back(absl::AsciiStrToLower(absl::string_view(line.data(), colon)),
                          std::move(value));
  }
  return size * count;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  const auto it = std::find_if(headers.begin(), headers.end(),
                               [&](const auto& header) { return header.first == name; });
  return it == headers.end() ? "" : it->second;
}

HttpResponse SendHttp(const HttpRequest& request) {
  HttpResponse response;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<curl_slist, CurlDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = absl::StrCat(name, ": ", value);
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  // No "Expect: 100-continue" round trip: the request goes out exactly as the test wrote it.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  if (!request.body.empty()) {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
  const CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK) {
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.error = curl_easy_strerror(code);
  }
  return response;
}

namespace {

long StatusAndBody(HttpResponse response, std::string* body) {
  if (body != nullptr) *body = std::move(response.body);
  return response.status;
}

}  // namespace

long HttpGet(const std::string& url, std::string* body) {
  return StatusAndBody(SendHttp({.url = url, .timeout = absl::Seconds(5)}), body);
}

long HttpPost(const std::string& url, const std::string& post_body, std::string* body) {
  return StatusAndBody(
      SendHttp({.method = "POST", .url = url, .body = post_body, .timeout = absl::Seconds(5)}),
      body);
}

}  // namespace klaxon::testing
