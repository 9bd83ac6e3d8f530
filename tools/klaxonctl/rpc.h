// What every call klaxonctl makes has in common, whichever service it goes to: it carries
// "authorization: Bearer <api key>" and a deadline, and its failure becomes an absl::Status that,
// when the call failed on the way (no connection, a failed TLS handshake), names the link it
// went over. AlertClient and VerificationClient both build their calls from these.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/grpcutil/channel_security.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace klaxon::ctl {

// The channel a stub calls over, for error messages.
struct Link {
  std::string name;  // e.g. "ingress gRPC at 10.0.0.7:50051"; empty: errors stay as gRPC's
  grpcutil::ChannelSecurity security;
};

class CallSetup {
 public:
  explicit CallSetup(absl::string_view api_key);

  // Adds the API key and, unless it is absl::InfiniteFuture(), the deadline.
  void Prepare(grpc::ClientContext& context, absl::Time deadline) const;

 private:
  std::string authorization_;
};

// The same code and message as an absl::Status.
absl::Status FromGrpc(const grpc::Status& status);
// As above, with `link` named when the call never reached the server.
absl::Status FromGrpc(const grpc::Status& status, const Link& link);

// One unary call of `method` on `stub`, prepared by `setup`: the response, or the failure as
// FromGrpc says it over `link`.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallUnary(const CallSetup& setup, const Link& link, Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, absl::Time deadline) {
  grpc::ClientContext context;
  setup.Prepare(context, deadline);
  Response response;
  if (grpc::Status status = (stub.*method)(&context, request, &response); !status.ok()) {
    return FromGrpc(status, link);
  }
  return response;
}

}  // namespace klaxon::ctl
