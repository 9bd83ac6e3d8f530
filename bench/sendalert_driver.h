// SendAlertLoad: drives klaxon.alerts.v1.AlertIntake/SendAlert open loop. Requests start on a
// fixed schedule (see schedule.h) on gRPC's callback API; when `concurrency` calls are in flight
// the next one waits for a slot, and that wait counts in its latency because latency runs from
// the due time. bench-sendalert reports on the calls alone; bench-delivery follows each accepted
// alert on to Twilio through `on_accepted`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/load_report.h"
#include "bench/open_loop_unary_load.h"
#include "bench/schedule.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::bench {

struct SendAlertLoadOptions {
  std::string target;  // for the report
  std::string api_key;
  double rate = 50;
  std::chrono::nanoseconds duration{0};  // for the report; the schedule sets the requests
  int64_t concurrency = 100;
  std::string recipient = "+14155550100";
  // 0: every alert goes to `recipient`. N > 0: alert i goes to SpreadRecipient(i % N)
  // (recipients.h), so per-recipient limits see N numbers.
  int64_t recipient_spread = 0;
  std::chrono::nanoseconds rpc_timeout = std::chrono::seconds(5);
};

// Called from a gRPC thread for every call that succeeded, with the alert's id and the call's
// due time. Must be thread-safe and quick.
using OnAlertAccepted =
    std::function<void(const std::string& alert_id, std::chrono::steady_clock::time_point due)>;

class SendAlertLoad {
 public:
  using SteadyClock = std::chrono::steady_clock;

  SendAlertLoad(alerts::v1::AlertIntake::StubInterface::async_interface& stub,
                SendAlertLoadOptions options, const OpenLoopSchedule& schedule,
                OnAlertAccepted on_accepted = nullptr);

  // Starts every scheduled call and waits for the last one to end.
  LoadReport Run() { return load_.Run(); }

 private:
  const std::string recipient_;
  const int64_t recipient_spread_;
  const std::string run_id_;
  OpenLoopUnaryLoad<alerts::v1::SendAlertRequest, alerts::v1::SendAlertResponse> load_;
};

}  // namespace klaxon::bench
