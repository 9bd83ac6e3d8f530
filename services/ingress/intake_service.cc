#include "services/ingress/intake_service.h"

#include <string>
#include <utility>

#include "common/grpcutil/grpcutil.h"
#include "services/ingress/blocking_rpc.h"

namespace klaxon::ingress {

IntakeService::IntakeService(const auth::CallerAuthenticator& api_keys, AlertIntake& intake,
                             BulkIntake& bulk, EscalationIntake& escalations, AlertStops& stops,
                             concurrency::BatchWorkers<IntakeCall>& send_batches,
                             concurrency::BlockingExecutor& blocking)
    : api_keys_(api_keys),
      intake_(intake),
      bulk_(bulk),
      escalations_(escalations),
      stops_(stops),
      send_batches_(send_batches),
      blocking_(blocking) {}

grpc::ServerUnaryReactor* IntakeService::SendAlert(grpc::CallbackServerContext* context,
                                                   const alerts::v1::SendAlertRequest* request,
                                                   alerts::v1::SendAlertResponse* response) {
  if (request->escalation().empty() && !request->has_template_()) {
    return ServeAuthenticated(
        api_keys_, context,
        [this, context, request, response](std::string caller, grpc::ServerUnaryReactor& reactor) {
          IntakeCall call{.caller = std::move(caller),
                          .request = request,
                          .done = [context, &reactor,
                                   response](absl::StatusOr<alerts::v1::SendAlertResponse> sent) {
                            FinishWith(*context, reactor, std::move(sent), *response);
                          }};
          if (!send_batches_.Submit(call)) std::move(call.done)(IntakeOverloaded());
        });
  }
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         auto finish = [context, &reactor, response](
                                           absl::StatusOr<alerts::v1::SendAlertResponse> sent) {
                           FinishWith(*context, reactor, std::move(sent), *response);
                         };
                         // Authenticated already; kept to render a template as the caller.
                         const std::string key = auth::BearerKey(*context).value_or("");
                         if (request->escalation().empty()) {
                           intake_.Send(caller, *request, {.caller_key = key}, std::move(finish));
                         } else {
                           escalations_.Send(caller, key, *request, std::move(finish));
                         }
                       });
}

grpc::ServerUnaryReactor* IntakeService::SendAlerts(grpc::CallbackServerContext* context,
                                                    const alerts::v1::SendAlertsRequest* request,
                                                    alerts::v1::SendAlertsResponse* response) {
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         // Authenticated already; kept to render a template as the caller.
                         const std::string key = auth::BearerKey(*context).value_or("");
                         bulk_.Send(caller, key, *request,
                                    [context, &reactor, response](
                                        absl::StatusOr<alerts::v1::SendAlertsResponse> sent) {
                                      FinishWith(*context, reactor, std::move(sent), *response);
                                    });
                       });
}

grpc::ServerUnaryReactor* IntakeService::CancelAlert(grpc::CallbackServerContext* context,
                                                     const alerts::v1::CancelAlertRequest* request,
                                                     alerts::v1::CancelAlertResponse* response) {
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         FinishWith(*context, reactor, stops_.Cancel(caller, *request), *response);
                       });
}

grpc::ServerUnaryReactor* IntakeService::AcknowledgeAlert(
    grpc::CallbackServerContext* context, const alerts::v1::AcknowledgeAlertRequest* request,
    alerts::v1::AcknowledgeAlertResponse* response) {
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         FinishWith(*context, reactor, stops_.Acknowledge(caller, *request),
                                    *response);
                       });
}

}  // namespace klaxon::ingress
