#include "services/delivery/status_check_sweeper.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/timing/fake_clock.h"

namespace klaxon::delivery {
namespace {

// Hands out the checks put in `due` (as many as asked), and records what was finished.
class FakeQueue final : public StatusCheckQueue {
 public:
  absl::Status Schedule(const events::v1::AlertRequested&, absl::Time) override {
    return absl::OkStatus();
  }
  absl::StatusOr<DueChecks> ClaimDue(absl::Time, size_t max, absl::Duration lease) override {
    std::lock_guard lock(mutex);
    asked.push_back(max);
    leases.push_back(lease);
    if (!claim_status.ok()) return claim_status;
    DueChecks out{.waiting = static_cast<int64_t>(due.size())};
    while (!due.empty() && out.checks.size() < max) {
      out.checks.push_back(due.front());
      due.pop_front();
    }
    return out;
  }
  absl::Status Finish(std::span<const ClaimedCheck> checks) override {
    std::lock_guard lock(mutex);
    if (!finish_status.ok()) return finish_status;
    for (const ClaimedCheck& check : checks) finished.push_back(check.sid);
    return absl::OkStatus();
  }
  size_t Claims() {
    std::lock_guard lock(mutex);
    return asked.size();
  }
  std::vector<std::string> Finished() {
    std::lock_guard lock(mutex);
    return finished;
  }

  std::mutex mutex;
  std::deque<ClaimedCheck> due = {};
  std::vector<size_t> asked = {};
  std::vector<absl::Duration> leases = {};
  std::vector<std::string> finished = {};
  absl::Status claim_status = absl::OkStatus();
  absl::Status finish_status = absl::OkStatus();
};

// Fails the checks whose SID starts with "fail"; blocks every check while `gate` is closed.
class FakeChecker final : public messaging::MessageHandler {
 public:
  absl::Status Handle(const messaging::InboundMessage& message) override {
    gate.WaitForNotification();
    std::lock_guard lock(mutex);
    handled.push_back(message.value);
    if (message.key.starts_with("fail")) return absl::UnavailableError("Kafka is down");
    return absl::OkStatus();
  }
  size_t Handled() {
    std::lock_guard lock(mutex);
    return handled.size();
  }
  std::mutex mutex;
  absl::Notification gate;
  std::vector<std::string> handled = {};
};

class RecordingObserver final : public StatusCheckSweepObserver {
 public:
  void OnSwept(const DueChecks& due) override { waiting.push_back(due.waiting); }
  void OnSweepFailed(const absl::Status& reason) override { failures.push_back(reason); }
  std::vector<int64_t> waiting = {};
  std::vector<absl::Status> failures = {};
};

class StatusCheckSweeperTest : public ::testing::Test {
 protected:
  StatusCheckSweeper& Sweeper(size_t max_in_flight = 10) {
    sweeper_.emplace(
        StatusCheckSweeperOptions{.lease = absl::Minutes(3), .max_in_flight = max_in_flight},
        StatusCheckSweeperPorts{.queue = queue_,
                                .handler = checker_,
                                .pool = pool_,
                                .observer = observer_,
                                .clock = clock_});
    return *sweeper_;
  }
  void Due(const std::string& sid) {
    queue_.due.push_back({.sid = sid, .value = "check " + sid, .lease = "lease"});
  }
  // Waits until the pool (one thread, first in first out) ran every check handed to it so far.
  void Settle() {
    absl::Notification ran;
    ASSERT_TRUE(pool_.Submit([&ran] { ran.Notify(); }));
    ran.WaitForNotification();
  }
  // Opens the gate and waits for every check, then for the sweeper.
  void Drain() {
    if (!checker_.gate.HasBeenNotified()) checker_.gate.Notify();
    sweeper_.reset();
  }

  FakeQueue queue_;
  FakeChecker checker_;
  RecordingObserver observer_;
  timing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  concurrency::BlockingExecutor pool_{{.threads = 1, .max_queued = 100}};
  std::optional<StatusCheckSweeper> sweeper_;
};

TEST_F(StatusCheckSweeperTest, RunsDueChecksAndFinishesThoseHandled) {
  Due("SMok");
  Due("fail-SM");
  StatusCheckSweeper& sweeper = Sweeper();
  sweeper.SweepOnce();
  EXPECT_EQ(queue_.leases, std::vector<absl::Duration>{absl::Minutes(3)});
  checker_.gate.Notify();
  Settle();
  // Finished by the next sweep; the failed one is left to its lease, to run again.
  sweeper.SweepOnce();
  Drain();
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMok"});
  EXPECT_EQ(observer_.waiting, (std::vector<int64_t>{2, 0}));
}

TEST_F(StatusCheckSweeperTest, ClaimsNoMoreThanItHasRoomFor) {
  for (int i = 0; i < 5; ++i) Due("SM" + std::to_string(i));
  StatusCheckSweeper& sweeper = Sweeper(/*max_in_flight=*/3);
  sweeper.SweepOnce();  // three in flight, blocked at the gate
  sweeper.SweepOnce();  // no room: nothing claimed
  EXPECT_EQ(queue_.asked, std::vector<size_t>{3});
  checker_.gate.Notify();
  Settle();
  sweeper.SweepOnce();
  EXPECT_EQ(queue_.asked.back(), 3u) << "room again once the three were handled";
  Drain();
  EXPECT_EQ(checker_.Handled(), 5u);
}

TEST_F(StatusCheckSweeperTest, AFailedFinishIsTriedAgainAtTheNextSweep) {
  Due("SMok");
  StatusCheckSweeper& sweeper = Sweeper();
  sweeper.SweepOnce();
  checker_.gate.Notify();
  Settle();
  queue_.finish_status = absl::UnavailableError("Redis is down");
  queue_.claim_status = absl::UnavailableError("Redis is down");
  sweeper.SweepOnce();
  EXPECT_EQ(observer_.failures.size(), 2u) << "the finish and the claim";
  EXPECT_TRUE(queue_.Finished().empty());
  queue_.finish_status = absl::OkStatus();
  queue_.claim_status = absl::OkStatus();
  sweeper.SweepOnce();
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMok"});
  Drain();
}

TEST_F(StatusCheckSweeperTest, RunStopsAfterTheChecksInFlightAndFinishesThem) {
  Due("SMslow");
  StatusCheckSweeper& sweeper = Sweeper();
  std::stop_source stop;
  std::thread running([&] { sweeper.Run(stop.get_token()); });
  while (queue_.Claims() == 0) std::this_thread::yield();
  stop.request_stop();
  checker_.gate.Notify();
  running.join();
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMslow"});
  Drain();
}

}  // namespace
}  // namespace klaxon::delivery
