#include "services/delivery/status_check_sweeper.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/lifecycle/sleep.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

StatusCheckSweeper::StatusCheckSweeper(StatusCheckSweeperOptions options,
                                       StatusCheckSweeperPorts ports)
    : options_(options), ports_(ports) {}

StatusCheckSweeper::~StatusCheckSweeper() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return in_flight_ == 0; });
}

void StatusCheckSweeper::SweepOnce() {
  FinishHandled();
  size_t room = 0;
  {
    std::lock_guard lock(mutex_);
    room = options_.max_in_flight - in_flight_;
  }
  // With no room the claim takes nothing, and still says how many wait and how late.
  absl::StatusOr<DueChecks> due =
      ports_.queue.ClaimDue(options_.lane, ports_.clock.Now(), room, options_.lease);
  if (!due.ok()) {
    ports_.observer.OnSweepFailed(due.status());
    return;
  }
  ports_.observer.OnSwept(options_.lane, *due);
  for (ClaimedCheck& check : due->checks) {
    {
      std::lock_guard lock(mutex_);
      ++in_flight_;
    }
    // A pool whose queue is full refuses: the check is left to its lease.
    if (!ports_.pool.Submit([this, check = std::move(check)] { RunCheck(check); })) {
      std::lock_guard lock(mutex_);
      if (--in_flight_ == 0) idle_.notify_all();
    }
  }
}

void StatusCheckSweeper::RunCheck(const ClaimedCheck& check) {
  bool finished = false;
  events::v1::AlertRequested parsed;
  if (!parsed.ParseFromString(check.value) || parsed.check_sid().empty()) {
    ports_.observer.OnCheckDiscarded(check);
    finished = true;
  } else if (ports_.clock.Now() + options_.max_handling <= check.leased_until) {
    // Any failure (Kafka, Twilio, Redis) is left to the lease: the check runs again.
    finished =
        ports_.handler.Handle({.topic = "status_checks", .key = check.sid, .value = check.value})
            .ok();
  }
  std::lock_guard lock(mutex_);
  if (finished) handled_.push_back(check);
  if (--in_flight_ == 0) idle_.notify_all();
}

void StatusCheckSweeper::FinishHandled() {
  std::vector<ClaimedCheck> handled;
  {
    std::lock_guard lock(mutex_);
    handled.swap(handled_);
  }
  if (handled.empty()) return;
  if (absl::Status finished = ports_.queue.Finish(options_.lane, handled); !finished.ok()) {
    ports_.observer.OnSweepFailed(finished);
    std::lock_guard lock(mutex_);
    handled_.insert(handled_.end(), std::make_move_iterator(handled.begin()),
                    std::make_move_iterator(handled.end()));
  }
}

void StatusCheckSweeper::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    SweepOnce();
    lifecycle::SleepUnlessStopped(options_.interval, stop);
  }
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return in_flight_ == 0; });
  }
  FinishHandled();
}

}  // namespace klaxon::delivery
