#include "common/grpc_gateway/problem.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace klaxon::grpc_gateway {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

http::Response ProblemResponse(int http_status, const absl::Status& status) {
  const nlohmann::json problem = {
      {"type", "about:blank"},
      {"title", std::string(http::ReasonPhrase(http_status))},
      {"status", http_status},
      {"detail", std::string(status.message())},
      {"code", absl::StatusCodeToString(status.code())},
  };
  return {.status = http_status,
          .content_type = "application/problem+json",
          .body = problem.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

http::Response ProblemResponse(const absl::Status& status,
                               std::optional<absl::Duration> retry_after) {
  const int http_status = HttpStatusFor(status.code());
  http::Response response = ProblemResponse(http_status, status);
  if (http_status == 429 || http_status == 503) {
    const double seconds = absl::ToDoubleSeconds(retry_after.value_or(absl::Seconds(1)));
    const long whole = std::max(1L, static_cast<long>(std::ceil(seconds)));
    response.headers.emplace_back("Retry-After", std::to_string(whole));
  }
  if (http_status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

}  // namespace klaxon::grpc_gateway
