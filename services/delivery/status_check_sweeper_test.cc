#include "services/delivery/status_check_sweeper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/timing/fake_clock.h"
#include "services/delivery/dispatcher_test_ports.h"

namespace klaxon::delivery {
namespace {

constexpr absl::Duration kLease = absl::Minutes(3);
constexpr absl::Duration kMaxHandling = absl::Minutes(1);

// Fails the checks whose SID starts with "fail" as if Kafka were down, and those starting with
// "refused" as if Kafka refused the publish; blocks every check while `gate` is closed.
class FakeChecker final : public messaging::MessageHandler {
 public:
  absl::Status Handle(const messaging::InboundMessage& message) override {
    gate.WaitForNotification();
    std::lock_guard lock(mutex);
    handled.push_back(message.value);
    if (message.key.starts_with("fail")) return absl::UnavailableError("Kafka is down");
    if (message.key.starts_with("refused")) {
      return absl::InvalidArgumentError("Kafka refused the message: too large");
    }
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
  void OnSwept(CheckLane lane, const DueChecks& due) override {
    lanes.push_back(lane);
    kept.push_back(due.kept);
  }
  void OnSweepFailed(const absl::Status& reason) override { failures.push_back(reason); }
  void OnCheckDiscarded(const ClaimedCheck& check) override {
    std::lock_guard lock(mutex);
    discarded.push_back(check.sid);
  }
  std::mutex mutex;
  std::vector<CheckLane> lanes = {};
  std::vector<int64_t> kept = {};
  std::vector<absl::Status> failures = {};
  std::vector<std::string> discarded = {};
};

// Spins until `done`, false after 10 s instead of hanging.
template <typename Done>
bool Await(Done done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class StatusCheckSweeperTest : public ::testing::Test {
 protected:
  // A failed assertion must not leave a check blocked at the gate: the sweeper waits for it.
  ~StatusCheckSweeperTest() override {
    if (!checker_.gate.HasBeenNotified()) checker_.gate.Notify();
    sweeper_.reset();
  }

  StatusCheckSweeper& Sweeper(size_t max_in_flight = 10,
                              absl::Duration interval = absl::Milliseconds(250)) {
    sweeper_.emplace(StatusCheckSweeperOptions{.lane = CheckLane::kUrgent,
                                               .interval = interval,
                                               .max_handling = kMaxHandling,
                                               .lease = kLease,
                                               .max_in_flight = max_in_flight},
                     StatusCheckSweeperPorts{.queue = queue_,
                                             .handler = checker_,
                                             .pool = pool_,
                                             .observer = observer_,
                                             .clock = clock_});
    return *sweeper_;
  }
  // A check of `sid` claimed now; `value` (a serialized AlertRequested with check_sid) unless
  // given.
  void Due(const std::string& sid, std::optional<std::string> value = std::nullopt) {
    events::v1::AlertRequested check;
    check.set_check_sid(sid);
    queue_.due.push_back({.sid = sid,
                          .value = value.value_or(check.SerializeAsString()),
                          .claim = "claim",
                          .leased_until = clock_.Now() + kLease});
  }
  // Waits until the pool (one thread, first in first out) ran every check handed to it so far.
  void Settle() {
    absl::Notification ran;
    ASSERT_TRUE(pool_.Submit([&ran] { ran.Notify(); }));
    ran.WaitForNotification();
  }

  test_ports::InMemoryStatusCheckQueue queue_;
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
  EXPECT_EQ(queue_.leases, std::vector<absl::Duration>{kLease});
  checker_.gate.Notify();
  Settle();
  // Finished by the next sweep; the failed one is left to its lease, to run again.
  sweeper.SweepOnce();
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMok"});
  EXPECT_EQ(observer_.kept, (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(observer_.discarded.empty());
  EXPECT_EQ(observer_.lanes, (std::vector<CheckLane>{CheckLane::kUrgent, CheckLane::kUrgent}));
  for (CheckLane lane : queue_.lanes) EXPECT_EQ(lane, CheckLane::kUrgent) << "the sweeper's lane";
}

TEST_F(StatusCheckSweeperTest, ClaimsNoMoreThanItHasRoomForAndStillReports) {
  for (int i = 0; i < 5; ++i) Due("SM" + std::to_string(i));
  StatusCheckSweeper& sweeper = Sweeper(/*max_in_flight=*/3);
  sweeper.SweepOnce();  // three in flight, blocked at the gate
  sweeper.SweepOnce();  // no room: claims nothing, still counts what waits
  EXPECT_EQ(queue_.asked, (std::vector<size_t>{3, 0}));
  EXPECT_EQ(observer_.kept, (std::vector<int64_t>{5, 2}));
  checker_.gate.Notify();
  Settle();
  sweeper.SweepOnce();
  EXPECT_EQ(queue_.asked.back(), 3u) << "room again once the three were handled";
  Settle();
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
}

TEST_F(StatusCheckSweeperTest, AValueThatIsNoCheckIsDiscardedNotRetried) {
  Due("SMnosid", events::v1::AlertRequested().SerializeAsString());  // no check_sid
  StatusCheckSweeper& sweeper = Sweeper();
  sweeper.SweepOnce();
  checker_.gate.Notify();
  Settle();
  sweeper.SweepOnce();
  EXPECT_EQ(checker_.Handled(), 0u) << "never handed to the checker";
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMnosid"});
  EXPECT_EQ(observer_.discarded, std::vector<std::string>{"SMnosid"});
}

TEST_F(StatusCheckSweeperTest, ACheckWhosePublishWasRefusedIsKeptForItsLease) {
  Due("refused-SM");
  StatusCheckSweeper& sweeper = Sweeper();
  sweeper.SweepOnce();
  checker_.gate.Notify();
  Settle();
  sweeper.SweepOnce();
  EXPECT_EQ(checker_.Handled(), 1u);
  EXPECT_TRUE(queue_.Finished().empty()) << "a check the checker could not finish is kept";
  EXPECT_TRUE(observer_.discarded.empty());
}

TEST_F(StatusCheckSweeperTest, ACheckTakenTooLateToEndWithinItsLeaseIsLeftToTheNextClaim) {
  Due("SMlate");
  StatusCheckSweeper& sweeper = Sweeper();
  // The pool's one thread is busy until the check could no longer end within its lease.
  absl::Notification busy;
  ASSERT_TRUE(pool_.Submit([&busy] { busy.WaitForNotification(); }));
  sweeper.SweepOnce();
  clock_.SleepFor(kLease - kMaxHandling + absl::Seconds(1));
  busy.Notify();
  checker_.gate.Notify();
  Settle();
  sweeper.SweepOnce();
  EXPECT_EQ(checker_.Handled(), 0u) << "another replica may hold it before it ends";
  EXPECT_TRUE(queue_.Finished().empty());
}

TEST_F(StatusCheckSweeperTest, ACheckTakenInTimeRuns) {
  Due("SMintime");
  StatusCheckSweeper& sweeper = Sweeper();
  sweeper.SweepOnce();
  clock_.SleepFor(kLease - kMaxHandling);
  checker_.gate.Notify();
  Settle();
  EXPECT_EQ(checker_.Handled(), 1u);
}

TEST_F(StatusCheckSweeperTest, ACheckThePoolRefusesIsLeftToItsLease) {
  // A pool whose one thread is busy and whose one queue place is taken refuses every task.
  concurrency::BlockingExecutor full({.threads = 1, .max_queued = 1});
  absl::Notification running;
  absl::Notification release;
  ASSERT_TRUE(full.Submit([&] {
    running.Notify();
    release.WaitForNotification();
  }));
  running.WaitForNotification();
  ASSERT_TRUE(full.Submit([] {}));
  Due("SMrefused");
  checker_.gate.Notify();
  {
    StatusCheckSweeper sweeper({.max_handling = kMaxHandling, .lease = kLease},
                               {.queue = queue_,
                                .handler = checker_,
                                .pool = full,
                                .observer = observer_,
                                .clock = clock_});
    sweeper.SweepOnce();
    sweeper.SweepOnce();
    EXPECT_EQ(queue_.asked.back(), StatusCheckSweeperOptions{}.max_in_flight)
        << "the refused check no longer counts as in flight";
  }  // nor does the sweeper wait for it
  release.Notify();
  EXPECT_EQ(checker_.Handled(), 0u);
  EXPECT_TRUE(queue_.Finished().empty()) << "left to its lease, to be claimed again";
}

TEST_F(StatusCheckSweeperTest, RunStopsOnlyAfterTheChecksInFlightAndFinishesThem) {
  Due("SMslow");
  StatusCheckSweeper& sweeper = Sweeper(10, absl::Milliseconds(1));
  std::stop_source stop;
  std::atomic<bool> returned = false;
  std::thread running([&] {
    sweeper.Run(stop.get_token());
    returned = true;
  });
  ASSERT_TRUE(Await([&] { return queue_.Claims() > 0; }));
  stop.request_stop();
  absl::SleepFor(absl::Milliseconds(50));  // room for Run to return early, were it to
  EXPECT_FALSE(returned) << "a check is still in flight";
  checker_.gate.Notify();
  running.join();
  EXPECT_EQ(queue_.Finished(), std::vector<std::string>{"SMslow"});
}

}  // namespace
}  // namespace klaxon::delivery
