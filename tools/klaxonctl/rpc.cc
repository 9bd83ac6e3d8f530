#include "tools/klaxonctl/rpc.h"

#include "absl/strings/str_cat.h"

namespace klaxon::ctl {

CallSetup::CallSetup(absl::string_view api_key)
    : authorization_(absl::StrCat("Bearer ", api_key)) {}

void CallSetup::Prepare(grpc::ClientContext& context, absl::Time deadline) const {
  context.AddMetadata("authorization", authorization_);
  if (deadline != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(deadline));
}

absl::Status FromGrpc(const grpc::Status& status) {
  // gRPC and absl share the canonical code numbering, so the cast keeps the meaning.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::Status FromGrpc(const grpc::Status& status, const Link& link) {
  return grpcutil::NameLinkFailure(FromGrpc(status), link.name, link.security);
}

}  // namespace klaxon::ctl
