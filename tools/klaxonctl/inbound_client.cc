#include "tools/klaxonctl/inbound_client.h"

#include <utility>

namespace klaxon::ctl {

InboundClient::InboundClient(std::unique_ptr<alerts::v1::InboundMessages::StubInterface> stub,
                             absl::string_view api_key, Link audit)
    : stub_(std::move(stub)), call_setup_(api_key), audit_(std::move(audit)) {}

absl::StatusOr<alerts::v1::ListInboundMessagesResponse> InboundClient::List(
    const alerts::v1::ListInboundMessagesRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, audit_, *stub_,
                   &alerts::v1::InboundMessages::StubInterface::ListInboundMessages, request,
                   deadline);
}

}  // namespace klaxon::ctl
