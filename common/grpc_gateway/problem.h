#pragma once
// How a gRPC status reads over HTTP: the usual HTTP status for its code (the mapping of Google's
// API gateways: INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS and ABORTED 409, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, ...) and an RFC 9457
// problem document (application/problem+json) whose detail is the status's message as the gRPC
// client would have read it, and whose "code" is the gRPC code's name.

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/http/message.h"

namespace klaxon::grpc_gateway {

int HttpStatusFor(absl::StatusCode code);

// The problem response for a failed call. 429 and 503 carry Retry-After (the server's retry hint
// rounded up to whole seconds, else 1 s); 401 carries WWW-Authenticate: Bearer.
http::Response ProblemResponse(const absl::Status& status,
                               std::optional<absl::Duration> retry_after = std::nullopt);

// A problem the gateway answers itself with an HTTP status no gRPC code maps to (405, 415).
http::Response ProblemResponse(int http_status, const absl::Status& status);

}  // namespace klaxon::grpc_gateway
