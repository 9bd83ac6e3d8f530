#pragma once
// StatusCheckSweeper: takes the status checks of one lane that fell due from the
// StatusCheckQueue and runs them (docs/adr/0045). Every `interval` it finishes the checks handled
// since the last sweep, claims as many due ones as it has room for, and hands each to `handler`
// (the StatusChecker) on `pool`. A check whose handler failed is left to its lease and runs again
// once the lease ends; so is every check claimed by a worker that died, and one that waited in
// the pool's queue so long that its handling could outlast the lease (another replica would then
// claim it and read Twilio a second time). A value that is not a check is removed and reported,
// never retried. Each worker replica runs a sweeper per lane (urgent and normal, each on its own
// pool); a claim hands a check to one of them.

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stop_token>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "services/delivery/status_check_queue.h"

namespace klaxon::delivery {

struct StatusCheckSweeperOptions {
  CheckLane lane = CheckLane::kNormal;
  // Short, so that each claim takes few checks: every check may read Twilio (for its charge)
  // under the in-flight limit (ADR 0042), and a sweep every 250 ms at 300 alerts/s made bursts of
  // 75 reads that sometimes left the sends waiting for slots. An idle sweep is one script.
  absl::Duration interval = absl::Milliseconds(100);
  // The longest a check's handling takes (a wait for an in-flight slot, a Twilio read, two Kafka
  // publishes, each bounded by its timeout): a check taken from the pool later than its lease's
  // end less this is left to the next claim.
  absl::Duration max_handling = absl::Seconds(45);
  // How long a claimed check is this worker's: at least twice max_handling, so that a check may
  // wait in the pool for as long as it takes to run.
  absl::Duration lease = absl::Seconds(90);
  size_t max_in_flight = 50;  // checks handed to the pool and not yet handled; at least 1
};

// What an SRE sees of the sweeps.
class StatusCheckSweepObserver {
 public:
  virtual ~StatusCheckSweepObserver() = default;
  // Each sweep whose claim Redis answered, whether it claimed anything or had no room.
  virtual void OnSwept(CheckLane lane, const DueChecks& due) = 0;
  // A claim or a finish Redis did not answer: the checks wait, none is lost.
  virtual void OnSweepFailed(const absl::Status& reason) = 0;
  // A claimed value that is no status check (not an AlertRequested with a check_sid): removed.
  virtual void OnCheckDiscarded(const ClaimedCheck& check) = 0;
};

struct StatusCheckSweeperPorts {
  StatusCheckQueue& queue;
  messaging::MessageHandler& handler;   // thread-safe
  concurrency::BlockingExecutor& pool;  // must outlive the sweeper
  StatusCheckSweepObserver& observer;
  timing::Clock& clock;
};

class StatusCheckSweeper {
 public:
  StatusCheckSweeper(StatusCheckSweeperOptions options, StatusCheckSweeperPorts ports);
  // Waits for the checks it handed to the pool.
  ~StatusCheckSweeper();
  StatusCheckSweeper(const StatusCheckSweeper&) = delete;
  StatusCheckSweeper& operator=(const StatusCheckSweeper&) = delete;

  // One sweep: finishes the checks handled since the last, then claims and hands out due ones.
  void SweepOnce();
  // Sweeps every interval (real time) until `stop`; then waits for the checks in flight and
  // finishes them.
  void Run(std::stop_token stop);

 private:
  // Runs one claimed check on the pool's thread and notes it for Finish when it was handled.
  void RunCheck(const ClaimedCheck& check);
  // Finishes what was handled; on failure keeps it for the next sweep.
  void FinishHandled();

  const StatusCheckSweeperOptions options_;
  const StatusCheckSweeperPorts ports_;
  std::mutex mutex_;
  std::condition_variable idle_;       // in_flight_ fell to 0
  size_t in_flight_ = 0;               // guarded by mutex_
  std::vector<ClaimedCheck> handled_;  // guarded by mutex_
};

}  // namespace klaxon::delivery
