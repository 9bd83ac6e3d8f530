// GetAlertLoad: drives klaxon.alerts.v1.AlertQuery/GetAlert open loop, the read ADR 0008 sets a
// target for (p99 5 ms at 2,000 requests a second). Calls start on a fixed schedule (see
// schedule.h) on gRPC's callback API, each reading the next of a set of existing alerts in turn;
// when `concurrency` calls are in flight the next waits for a slot, and that wait counts in its
// latency because latency runs from the due time. The shape is SendAlertLoad's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/latency_stats.h"
#include "bench/load_report.h"
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
  using SteadyClock = std::chrono::steady_clock;

  GetAlertLoad(alerts::v1::AlertQuery::StubInterface::async_interface& stub,
               GetAlertLoadOptions options, const OpenLoopSchedule& schedule);
  ~GetAlertLoad();

  // Starts every scheduled call and waits for the last one to end.
  LoadReport Run();

 private:
  struct Call;

  void Start(int64_t index, SteadyClock::time_point due);
  void Finish(Call& call, const grpc::Status& status);

  alerts::v1::AlertQuery::StubInterface::async_interface& stub_;
  const GetAlertLoadOptions options_;
  const OpenLoopSchedule& schedule_;
  const std::string authorization_;

  std::mutex mu_;
  std::condition_variable changed_;
  int64_t in_flight_ = 0;
  std::vector<std::unique_ptr<Call>> calls_;
  LatencyRecorder recorder_;
  SteadyClock::time_point last_completion_;
};

}  // namespace klaxon::bench
