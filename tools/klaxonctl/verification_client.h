// A thin client over phone verification (klaxon.verify.v1.Verification on ingress): start, check
// and cancel. Its calls carry the bearer API key and a deadline like AlertClient's (rpc.h); it
// holds the generated StubInterface, so tests hand it a fake.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"
#include "tools/klaxonctl/rpc.h"

namespace klaxon::ctl {

class VerificationClient {
 public:
  // `ingress` names the link in errors of calls that never reached it.
  VerificationClient(std::unique_ptr<verify::v1::Verification::StubInterface> stub,
                     absl::string_view api_key, Link ingress = {});

  absl::StatusOr<verify::v1::StartVerificationResponse> Start(
      const verify::v1::StartVerificationRequest& request, absl::Time deadline);
  absl::StatusOr<verify::v1::CheckVerificationResponse> Check(
      const verify::v1::CheckVerificationRequest& request, absl::Time deadline);
  absl::StatusOr<verify::v1::CancelVerificationResponse> Cancel(absl::string_view verification_id,
                                                                absl::Time deadline);

 private:
  std::unique_ptr<verify::v1::Verification::StubInterface> stub_;
  CallSetup call_setup_;
  Link ingress_;
};

}  // namespace klaxon::ctl
