#include "common/concurrency/timer_thread.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace klaxon::concurrency {
namespace {

// What the tasks were called with, in the order they ran.
class Calls {
 public:
  timing::TimerTask Task(int id) {
    return [this, id](bool due) {
      std::lock_guard lock(mutex_);
      calls_.push_back({id, due});
    };
  }
  std::vector<std::pair<int, bool>> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<int, bool>> calls_;
};

TEST(TimerThreadTest, RunsTasksInTheOrderOfTheirTimesNotBefore) {
  Calls calls;
  absl::Notification last;
  const absl::Time start = absl::Now();
  absl::Time ran_at;
  {
    TimerThread timers;
    timers.At(start + absl::Milliseconds(300), [&](bool due) {
      ran_at = absl::Now();
      calls.Task(3)(due);
      last.Notify();
    });
    timers.At(start + absl::Milliseconds(200), calls.Task(2));
    timers.At(start + absl::Milliseconds(100), calls.Task(1));
    ASSERT_TRUE(last.WaitForNotificationWithTimeout(absl::Seconds(10)));
  }
  EXPECT_EQ(calls.calls(), (std::vector<std::pair<int, bool>>{{1, true}, {2, true}, {3, true}}));
  EXPECT_GE(ran_at, start + absl::Milliseconds(300));
}

// The thread was waiting for the hour-later task: the new one must not wait for it.
TEST(TimerThreadTest, ATaskAddedForEarlierRunsAtItsOwnTime) {
  TimerThread timers;
  timers.At(absl::Now() + absl::Hours(1), [](bool) {});
  absl::SleepFor(absl::Milliseconds(50));  // the thread waits for the hour-later task now
  const absl::Time due = absl::Now() + absl::Milliseconds(100);
  absl::Notification ran;
  timers.At(due, [&](bool fired) {
    if (fired) ran.Notify();
  });
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(absl::Now(), due);
}

TEST(TimerThreadTest, StopRunsEveryWaitingTaskWithFalseAtOnce) {
  std::stop_source stop;
  Calls calls;
  TimerThread timers(stop.get_token());
  timers.At(absl::Now() + absl::Hours(1), calls.Task(1));
  timers.At(absl::Now() + absl::Hours(2), calls.Task(2));
  stop.request_stop();
  absl::Notification later;
  timers.At(absl::Now() + absl::Hours(3), [&](bool due) {
    calls.Task(3)(due);
    later.Notify();
  });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(calls.calls(), (std::vector<std::pair<int, bool>>{{1, false}, {2, false}, {3, false}}));
}

TEST(TimerThreadTest, DestructionRunsWaitingTasksWithFalse) {
  Calls calls;
  {
    TimerThread timers;
    timers.At(absl::Now() + absl::Hours(1), calls.Task(1));
  }
  EXPECT_EQ(calls.calls(), (std::vector<std::pair<int, bool>>{{1, false}}));
}

}  // namespace
}  // namespace klaxon::concurrency
