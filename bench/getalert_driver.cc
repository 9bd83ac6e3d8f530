#include "bench/getalert_driver.h"

#include <utility>

namespace klaxon::bench {

GetAlertLoad::GetAlertLoad(alerts::v1::AlertQuery::StubInterface::async_interface& stub,
                           GetAlertLoadOptions options, const OpenLoopSchedule& schedule)
    : alert_ids_(std::move(options.alert_ids)),
      load_(
          {.name = "GetAlert",
           .target = std::move(options.target),
           .api_key = std::move(options.api_key),
           .rate = options.rate,
           .duration = options.duration,
           .concurrency = options.concurrency,
           .rpc_timeout = options.rpc_timeout},
          schedule,
          [this](int64_t index, alerts::v1::GetAlertRequest& request) {
            request.set_alert_id(alert_ids_[static_cast<std::size_t>(index) % alert_ids_.size()]);
          },
          [&stub](grpc::ClientContext* context, const alerts::v1::GetAlertRequest* request,
                  alerts::v1::Alert* response, std::function<void(grpc::Status)> done) {
            stub.GetAlert(context, request, response, std::move(done));
          }) {}

}  // namespace klaxon::bench
