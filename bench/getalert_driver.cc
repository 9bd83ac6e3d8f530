#include "bench/getalert_driver.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::bench {

struct GetAlertLoad::Call {
  int64_t index = 0;
  SteadyClock::time_point due;
  grpc::ClientContext context;
  alerts::v1::GetAlertRequest request;
  alerts::v1::Alert response;
};

GetAlertLoad::GetAlertLoad(alerts::v1::AlertQuery::StubInterface::async_interface& stub,
                           GetAlertLoadOptions options, const OpenLoopSchedule& schedule)
    : stub_(stub),
      options_(std::move(options)),
      schedule_(schedule),
      authorization_(absl::StrCat("Bearer ", options_.api_key)),
      calls_(static_cast<std::size_t>(schedule.size())) {}

GetAlertLoad::~GetAlertLoad() = default;

LoadReport GetAlertLoad::Run() {
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
      .name = "GetAlert",
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

void GetAlertLoad::Start(int64_t index, SteadyClock::time_point due) {
  auto call = std::make_unique<Call>();
  call->index = index;
  call->due = due;
  call->context.AddMetadata("authorization", authorization_);
  call->context.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
  call->request.set_alert_id(
      options_.alert_ids[static_cast<std::size_t>(index) % options_.alert_ids.size()]);
  Call& started = *call;
  {
    std::lock_guard lock(mu_);
    calls_[static_cast<std::size_t>(index)] = std::move(call);
  }
  stub_.GetAlert(&started.context, &started.request, &started.response,
                 [this, &started](grpc::Status status) { Finish(started, status); });
}

void GetAlertLoad::Finish(Call& call, const grpc::Status& status) {
  const SteadyClock::time_point now = SteadyClock::now();
  std::lock_guard lock(mu_);
  if (status.ok()) {
    recorder_.RecordSuccess(now - call.due);
  } else {
    recorder_.RecordError(
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
  }
  last_completion_ = std::max(last_completion_, now);
  --in_flight_;
  // As in SendAlertLoad: freeing the context in its own completion callback is allowed, and
  // notifying under the lock keeps Run() from returning before we are done with this object.
  calls_[static_cast<std::size_t>(call.index)].reset();
  changed_.notify_all();
}

}  // namespace klaxon::bench
