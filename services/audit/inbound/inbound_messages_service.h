#pragma once
// klaxon.alerts.v1.InboundMessages over gRPC (callback API), on audit's port beside AlertQuery
// (ADR 0032). Authenticates the caller by API key, runs ListInboundMessages on a BlockingExecutor
// (it waits on Postgres) and translates; the logic is InboundMessageReader's.

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "klaxon/alerts/v1/inbound_messages.grpc.pb.h"
#include "services/audit/inbound/inbound_message_reader.h"

namespace klaxon::audit {

class InboundMessagesService final : public klaxon::alerts::v1::InboundMessages::CallbackService {
 public:
  // Borrowed; they must outlive the service. Destroy the service only after the gRPC server has
  // shut down; destruction finishes the calls still queued.
  InboundMessagesService(const auth::CallerAuthenticator& api_keys, InboundMessageReader& reader,
                         concurrency::BlockingExecutorOptions executor = {});

  grpc::ServerUnaryReactor* ListInboundMessages(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::ListInboundMessagesRequest* request,
      klaxon::alerts::v1::ListInboundMessagesResponse* response) override;

 private:
  const auth::CallerAuthenticator& api_keys_;
  InboundMessageReader& reader_;
  concurrency::BlockingExecutor
      executor_;  // last: its destructor runs queued calls that use the members above
};

}  // namespace klaxon::audit
