#include "bench/sendalert_driver.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/recipients.h"

namespace klaxon::bench {

SendAlertLoad::SendAlertLoad(alerts::v1::AlertIntake::StubInterface::async_interface& stub,
                             SendAlertLoadOptions options, const OpenLoopSchedule& schedule,
                             OnAlertAccepted on_accepted)
    : recipient_(std::move(options.recipient)),
      recipient_spread_(options.recipient_spread),
      run_id_(absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()))),
      load_(
          {.name = "SendAlert",
           .target = std::move(options.target),
           .api_key = std::move(options.api_key),
           .rate = options.rate,
           .duration = options.duration,
           .concurrency = options.concurrency,
           .rpc_timeout = options.rpc_timeout},
          schedule,
          [this](int64_t index, alerts::v1::SendAlertRequest& request) {
            request.set_channel(types::v1::CHANNEL_SMS);
            request.set_recipient(recipient_spread_ > 0 ? SpreadRecipient(index % recipient_spread_)
                                                        : recipient_);
            request.set_text(absl::StrCat("klaxon load test ", run_id_, " #", index));
            // Unique per request, so every call is a new alert rather than an idempotent repeat.
            request.set_idempotency_key(absl::StrCat("bench-", run_id_, "-", index));
          },
          [&stub](grpc::ClientContext* context, const alerts::v1::SendAlertRequest* request,
                  alerts::v1::SendAlertResponse* response, std::function<void(grpc::Status)> done) {
            stub.SendAlert(context, request, response, std::move(done));
          },
          [on_accepted = std::move(on_accepted)](const alerts::v1::SendAlertResponse& response,
                                                 std::chrono::steady_clock::time_point due) {
            if (on_accepted) on_accepted(response.alert_id(), due);
          }) {}

}  // namespace klaxon::bench
