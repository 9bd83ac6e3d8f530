#include "tools/twilio-sandbox/callback_scheduler.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "gtest/gtest.h"

namespace klaxon::sandbox {
namespace {

// Polls with a deadline instead of sleeping.
bool WaitUntil(const std::atomic<bool>& flag) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!flag.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return flag.load();
}

TEST(CallbackSchedulerTest, RunsDueTask) {
  CallbackScheduler scheduler;
  std::atomic<bool> ran{false};
  scheduler.Schedule(absl::ZeroDuration(), [&ran] { ran = true; });
  EXPECT_TRUE(WaitUntil(ran));
}

// Stop() drops a task the worker is already waiting for. Under ASan this is the use-after-free
// the worker had when it waited on a reference into the dropped task's map node.
TEST(CallbackSchedulerTest, StopWhileWaitingDropsTaskAndReleasesItsCaptures) {
  auto later_capture = std::make_shared<int>(0);
  std::atomic<bool> later_ran{false};
  {
    CallbackScheduler scheduler;
    scheduler.Schedule(absl::Hours(1), [later_capture, &later_ran] { later_ran = true; });
    // The worker destroys a finished task only after taking the lock back, so once this token is
    // released the worker holds the lock and gives it up next inside its wait for the later
    // task: Stop() below cannot get in before that wait has started.
    auto token = std::make_shared<int>(0);
    scheduler.Schedule(absl::ZeroDuration(), [token] {});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (token.use_count() > 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(token.use_count(), 1);
    scheduler.Stop();
    EXPECT_EQ(later_capture.use_count(), 1);
  }
  EXPECT_FALSE(later_ran.load());
}

TEST(CallbackSchedulerTest, ScheduleAfterStopIsIgnored) {
  CallbackScheduler scheduler;
  scheduler.Stop();
  auto capture = std::make_shared<int>(0);
  scheduler.Schedule(absl::ZeroDuration(), [capture] {});
  EXPECT_EQ(capture.use_count(), 1);
}

}  // namespace
}  // namespace klaxon::sandbox
