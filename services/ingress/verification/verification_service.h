#pragma once
// The gRPC face of the Verifier: authenticates the caller from its API key, runs the steps that
// wait on Redis on the intake threads, and maps the outcome to a gRPC status. Like
// IntakeService, a callback service: StartVerification's answer comes from Kafka's delivery
// report for the code's message, so no thread is parked on it.

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"
#include "services/ingress/verification/verifier.h"

namespace klaxon::ingress::verification {

class VerificationService final : public verify::v1::Verification::CallbackService {
 public:
  // All borrowed; they must outlive the service.
  VerificationService(const auth::CallerAuthenticator& api_keys, Verifier& verifier,
                      concurrency::BlockingExecutor& blocking)
      : api_keys_(api_keys), verifier_(verifier), blocking_(blocking) {}

  grpc::ServerUnaryReactor* StartVerification(
      grpc::CallbackServerContext* context, const verify::v1::StartVerificationRequest* request,
      verify::v1::StartVerificationResponse* response) override;
  grpc::ServerUnaryReactor* CheckVerification(
      grpc::CallbackServerContext* context, const verify::v1::CheckVerificationRequest* request,
      verify::v1::CheckVerificationResponse* response) override;
  grpc::ServerUnaryReactor* CancelVerification(
      grpc::CallbackServerContext* context, const verify::v1::CancelVerificationRequest* request,
      verify::v1::CancelVerificationResponse* response) override;

 private:
  const auth::CallerAuthenticator& api_keys_;
  Verifier& verifier_;
  concurrency::BlockingExecutor& blocking_;
};

}  // namespace klaxon::ingress::verification
