// OpenLoopUnaryLoad: drives one unary gRPC method open loop. Calls start on a fixed schedule (see
// schedule.h) on gRPC's callback API; when `concurrency` calls are in flight the next one waits for
// a slot, and that wait counts in its latency because latency runs from the due time. What a
// request holds and which method it goes to are the caller's (GetAlertLoad, SendAlertLoad).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/latency_stats.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace klaxon::bench {

struct OpenLoopUnaryOptions {
  std::string name;    // the method, for the report
  std::string target;  // for the report
  std::string api_key;
  double rate = 0;                       // for the report; the schedule sets the requests
  std::chrono::nanoseconds duration{0};  // for the report
  int64_t concurrency = 1;
  std::chrono::nanoseconds rpc_timeout = std::chrono::seconds(5);
};

template <typename Request, typename Response>
class OpenLoopUnaryLoad {
 public:
  using SteadyClock = std::chrono::steady_clock;
  // Fills the request of the call with this index.
  using MakeRequest = std::function<void(int64_t index, Request& request)>;
  // Starts the call on the stub's callback API; gRPC runs `done` when it ends.
  using StartCall = std::function<void(grpc::ClientContext* context, const Request* request,
                                       Response* response, std::function<void(grpc::Status)> done)>;
  // Called from a gRPC thread for every call that succeeded, with its due time. Must be
  // thread-safe and quick; may be empty.
  using OnSuccess = std::function<void(const Response& response, SteadyClock::time_point due)>;

  OpenLoopUnaryLoad(OpenLoopUnaryOptions options, const OpenLoopSchedule& schedule,
                    MakeRequest make_request, StartCall start_call, OnSuccess on_success = nullptr)
      : options_(std::move(options)),
        schedule_(schedule),
        make_request_(std::move(make_request)),
        start_call_(std::move(start_call)),
        on_success_(std::move(on_success)),
        authorization_(absl::StrCat("Bearer ", options_.api_key)),
        calls_(static_cast<std::size_t>(schedule.size())) {}

  // Starts every scheduled call and waits for the last one to end.
  LoadReport Run() {
    std::chrono::nanoseconds max_lag{0};
    const SteadyClock::time_point start = SteadyClock::now();
    for (int64_t index = 0; index < schedule_.size(); ++index) {
      const SteadyClock::time_point due = start + schedule_.OffsetOf(index);
      std::this_thread::sleep_until(due);
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [this] { return in_flight_ < options_.concurrency; });
        ++in_flight_;
      }
      max_lag = std::max(max_lag, std::chrono::nanoseconds(SteadyClock::now() - due));
      Start(index, due);
    }
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return in_flight_ == 0; });
    return LoadReport{
        .name = options_.name,
        .target = options_.target,
        .rate_per_second = options_.rate,
        .planned_duration = options_.duration,
        .concurrency = options_.concurrency,
        .requests = schedule_.size(),
        .errors = recorder_.errors(),
        .latency = recorder_.Summarize(),
        .elapsed = last_completion_ - start,
        .max_send_lag = max_lag,
    };
  }

 private:
  struct Call {
    int64_t index = 0;
    SteadyClock::time_point due;
    grpc::ClientContext context;
    Request request;
    Response response;
  };

  void Start(int64_t index, SteadyClock::time_point due) {
    auto call = std::make_unique<Call>();
    call->index = index;
    call->due = due;
    call->context.AddMetadata("authorization", authorization_);
    call->context.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
    make_request_(index, call->request);
    Call& started = *call;
    {
      std::lock_guard lock(mu_);
      calls_[static_cast<std::size_t>(index)] = std::move(call);
    }
    start_call_(&started.context, &started.request, &started.response,
                [this, &started](grpc::Status status) { Finish(started, status); });
  }

  void Finish(Call& call, const grpc::Status& status) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (status.ok() && on_success_) on_success_(call.response, call.due);
    std::lock_guard lock(mu_);
    if (status.ok()) {
      recorder_.RecordSuccess(now - call.due);
    } else {
      recorder_.RecordError(
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
    }
    last_completion_ = std::max(last_completion_, now);
    --in_flight_;
    // gRPC allows freeing the context in its own completion callback. Notifying under the lock
    // keeps Run() from returning, and this object from going away, before we are done with it.
    calls_[static_cast<std::size_t>(call.index)].reset();
    changed_.notify_all();
  }

  const OpenLoopUnaryOptions options_;
  const OpenLoopSchedule& schedule_;
  const MakeRequest make_request_;
  const StartCall start_call_;
  const OnSuccess on_success_;
  const std::string authorization_;

  std::mutex mu_;
  std::condition_variable changed_;
  int64_t in_flight_ = 0;
  std::vector<std::unique_ptr<Call>> calls_;
  LatencyRecorder recorder_;
  SteadyClock::time_point last_completion_;
};

}  // namespace klaxon::bench
