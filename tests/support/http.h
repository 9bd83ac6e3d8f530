#pragma once
// A plain HTTP client (libcurl) for tests that talk to a running service: readiness probes, and
// requests whose every byte the test chooses (method, headers, body), answered with the status,
// the headers and the body.

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace klaxon::testing {

struct HttpRequest {
  std::string method = "GET";
  std::string url = {};
  // Sent as given and in order; libcurl adds Host, Content-Length and nothing else.
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  absl::Duration timeout = absl::Seconds(10);
};

struct HttpResponse {
  // 0 when nothing answered (see error).
  long status = 0;
  // Header names lower-cased, in the order received.
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  // libcurl's description of why nothing answered; empty when status is set.
  std::string error = {};

  // The first header called `name` (lower case), "" when absent.
  std::string Header(const std::string& name) const;
};

HttpResponse SendHttp(const HttpRequest& request);

// GET `url`, or POST `post_body` to it; the HTTP status, or 0 when nothing answered. The response
// body goes to `body` if given.
long HttpGet(const std::string& url, std::string* body = nullptr);
long HttpPost(const std::string& url, const std::string& post_body, std::string* body = nullptr);

}  // namespace klaxon::testing
