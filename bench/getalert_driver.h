// GetAlertLoad: drives klaxon.alerts.v1.AlertQuery/GetAlert open loop, the read ADR 0008 sets a
// target for (p99 5 ms at 2,000 requests a second). Calls start on a fixed schedule (see
// schedule.h) on gRPC's callback API, each reading the next of a set of existing alerts in turn;
// when `concurrency` calls are in flight the next waits for a slot, and that wait counts in its
// latency because latency runs from the due time. The shape is SendAlertLoad's.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/load_report.h"
#include "bench/open_loop_unary_load.h"
#include "bench/schedule.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::bench {

struct GetAlertLoadOptions {
  std::string target;  // for the report
  std::string api_key;
  double rate = 2000;
  std::chrono::nanoseconds duration{0};  // for the report; the schedule sets the requests
  int64_t concurrency = 256;
  std::vector<std::string> alert_ids;  // read round robin; must not be empty
  std::chrono::nanoseconds rpc_timeout = std::chrono::seconds(5);
};

class GetAlertLoad {
 public:
  GetAlertLoad(alerts::v1::AlertQuery::StubInterface::async_interface& stub,
               GetAlertLoadOptions options, const OpenLoopSchedule& schedule);

  // Starts every scheduled call and waits for the last one to end.
  LoadReport Run() { return load_.Run(); }

 private:
  const std::vector<std::string> alert_ids_;
  OpenLoopUnaryLoad<alerts::v1::GetAlertRequest, alerts::v1::Alert> load_;
};

}  // namespace klaxon::bench
