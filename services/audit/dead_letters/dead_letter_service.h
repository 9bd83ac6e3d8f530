#pragma once
// klaxon.alerts.v1.DeadLetters over gRPC (callback API), on audit's port next to AlertQuery.
// Authenticates the caller by API key (and whether it holds the operator role), runs the
// DeadLetterQueue call on a BlockingExecutor (each one waits on Postgres, a replay on Kafka too)
// and translates the answer. The logic is DeadLetterQueue's.

#include <functional>
#include <string>

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/audit/dead_letters/dead_letter_queue.h"

namespace klaxon::audit {

// The caller-facing form of a dead letter: recipient summary, no recipient or text.
klaxon::alerts::v1::DeadLetterRecord ToProto(const DeadLetterSummary& summary);

class DeadLetterService final : public klaxon::alerts::v1::DeadLetters::CallbackService {
 public:
  // Borrowed; they must outlive the service. Destroy the service only after the gRPC server has
  // shut down; destruction finishes the calls still queued.
  DeadLetterService(const auth::CallerAuthenticator& api_keys, DeadLetterQueue& queue,
                    concurrency::BlockingExecutorOptions executor = {});

  grpc::ServerUnaryReactor* ListDeadLetters(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::ListDeadLettersRequest* request,
      klaxon::alerts::v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* GetDeadLetter(grpc::CallbackServerContext* context,
                                          const klaxon::alerts::v1::GetDeadLetterRequest* request,
                                          klaxon::alerts::v1::DeadLetterRecord* response) override;
  grpc::ServerUnaryReactor* ReplayDeadLetter(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::ReplayDeadLetterRequest* request,
      klaxon::alerts::v1::ReplayDeadLetterResponse* response) override;
  grpc::ServerUnaryReactor* ReplayDeadLetters(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::ReplayDeadLettersRequest* request,
      klaxon::alerts::v1::ReplayDeadLettersResponse* response) override;

 private:
  // Authenticates, then runs `call(requester)` on the executor and finishes with its status.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                std::function<absl::Status(const Requester& requester)> call);

  const auth::CallerAuthenticator& api_keys_;
  DeadLetterQueue& queue_;
  concurrency::BlockingExecutor
      executor_;  // last: its destructor runs queued calls that use the members above
};

}  // namespace klaxon::audit
