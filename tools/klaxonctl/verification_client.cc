#include "tools/klaxonctl/verification_client.h"

#include <utility>

namespace klaxon::ctl {

VerificationClient::VerificationClient(
    std::unique_ptr<verify::v1::Verification::StubInterface> stub, absl::string_view api_key,
    Link ingress)
    : stub_(std::move(stub)), call_setup_(api_key), ingress_(std::move(ingress)) {}

absl::StatusOr<verify::v1::StartVerificationResponse> VerificationClient::Start(
    const verify::v1::StartVerificationRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, ingress_, *stub_,
                   &verify::v1::Verification::StubInterface::StartVerification, request, deadline);
}

absl::StatusOr<verify::v1::CheckVerificationResponse> VerificationClient::Check(
    const verify::v1::CheckVerificationRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, ingress_, *stub_,
                   &verify::v1::Verification::StubInterface::CheckVerification, request, deadline);
}

absl::StatusOr<verify::v1::CancelVerificationResponse> VerificationClient::Cancel(
    absl::string_view verification_id, absl::Time deadline) {
  verify::v1::CancelVerificationRequest request;
  request.set_verification_id(std::string(verification_id));
  return CallUnary(call_setup_, ingress_, *stub_,
                   &verify::v1::Verification::StubInterface::CancelVerification, request, deadline);
}

}  // namespace klaxon::ctl
