// A thin client over the inbound messages audit lists (klaxon.alerts.v1.InboundMessages). Its
// calls carry the bearer API key and a deadline like AlertClient's (rpc.h); it holds the
// generated StubInterface, so tests hand it a fake.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "klaxon/alerts/v1/inbound_messages.grpc.pb.h"
#include "tools/klaxonctl/rpc.h"

namespace klaxon::ctl {

class InboundClient {
 public:
  // `audit` names the link in errors of calls that never reached it.
  InboundClient(std::unique_ptr<alerts::v1::InboundMessages::StubInterface> stub,
                absl::string_view api_key, Link audit = {});

  absl::StatusOr<alerts::v1::ListInboundMessagesResponse> List(
      const alerts::v1::ListInboundMessagesRequest& request, absl::Time deadline);

 private:
  std::unique_ptr<alerts::v1::InboundMessages::StubInterface> stub_;
  CallSetup call_setup_;
  Link audit_;
};

}  // namespace klaxon::ctl
