#include "bench/sendalert_driver.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace klaxon::bench {

struct SendAlertLoad::Call {
  int64_t index = 0;
  SteadyClock::time_point due;
  grpc::ClientContext context;
  alerts::v1::SendAlertRequest request;
  alerts::v1::SendAlertResponse response;
};

SendAlertLoad::SendAlertLoad(alerts::v1::AlertIntake::StubInterface::async_interface& stub,
                             SendAlertLoadOptions options, const OpenLoopSchedule& schedule,
                             OnAlertAccepted on_accepted)
    : stub_(stub),
      options_(std::move(options)),
      schedule_(schedule),
      on_accepted_(std::move(on_accepted)),
      authorization_(absl::StrCat("Bearer ", options_.api_key)),
      run_id_(absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()))),
      calls_(static_cast<std::size_t>(schedule.size())) {}

SendAlertLoad::~SendAlertLoad() = default;

LoadReport SendAlertLoad::Run() {
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
      .name = "SendAlert",
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

void SendAlertLoad::Start(int64_t index, SteadyClock::time_point due) {
  auto call = std::make_unique<Call>();
  call->index = index;
  call->due = due;
  call->context.AddMetadata("authorization", authorization_);
  call->context.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
  call->request.set_channel(types::v1::CHANNEL_SMS);
  call->request.set_recipient(options_.recipient);
  call->request.set_text(absl::StrCat("klaxon load test ", run_id_, " #", index));
  // Unique per request, so every call is a new alert rather than an idempotent repeat.
  call->request.set_idempotency_key(absl::StrCat("bench-", run_id_, "-", index));
  Call& started = *call;
  {
    std::lock_guard lock(mu_);
    calls_[static_cast<std::size_t>(index)] = std::move(call);
  }
  stub_.SendAlert(&started.context, &started.request, &started.response,
                  [this, &started](grpc::Status status) { Finish(started, status); });
}

void SendAlertLoad::Finish(Call& call, const grpc::Status& status) {
  const SteadyClock::time_point now = SteadyClock::now();
  if (status.ok() && on_accepted_) on_accepted_(call.response.alert_id(), call.due);
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

}  // namespace klaxon::bench
