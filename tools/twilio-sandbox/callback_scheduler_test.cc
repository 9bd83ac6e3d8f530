#include "tools/twilio-sandbox/callback_scheduler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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

// Holds every callback until released, and records how many it held at once.
class HoldingSender : public CallbackSender {
 public:
  absl::Status Send(const StatusCallback&) override {
    std::unique_lock lock(mutex_);
    ++in_flight_;
    most_at_once_ = std::max(most_at_once_, in_flight_);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
    --in_flight_;
    ++delivered_;
    changed_.notify_all();
    return absl::OkStatus();
  }
  // Waits (at most 5 s) until `count` callbacks are held at once; how many are.
  int AwaitHeld(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_ >= count; });
    return in_flight_;
  }
  // Releases every callback, held or to come, and waits (at most 5 s) for `count` deliveries.
  int ReleaseAndAwaitDelivered(int count) {
    std::unique_lock lock(mutex_);
    released_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(5), [&] { return delivered_ >= count; });
    return delivered_;
  }
  int most_at_once() {
    std::lock_guard lock(mutex_);
    return most_at_once_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  int in_flight_ = 0;
  int most_at_once_ = 0;
  int delivered_ = 0;
};

// Twilio does not wait for one callback's answer before sending the next: a slow ingress must
// not hold back the callbacks of the other messages.
TEST(ConcurrentCallbackSenderTest, DeliversManyAtOnceAndReturnsAtOnce) {
  HoldingSender inner;
  {
    ConcurrentCallbackSender sender(inner, {.threads = 4, .max_queued = 100});
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(sender.Send({.url = "http://ingress/"}).ok()) << i;
    EXPECT_EQ(inner.AwaitHeld(4), 4);
    EXPECT_EQ(inner.ReleaseAndAwaitDelivered(10), 10);
  }
  EXPECT_EQ(inner.most_at_once(), 4);
}

TEST(ConcurrentCallbackSenderTest, AFullQueueDropsTheCallback) {
  HoldingSender inner;
  ConcurrentCallbackSender sender(inner, {.threads = 1, .max_queued = 1});
  ASSERT_TRUE(sender.Send({}).ok());
  ASSERT_EQ(inner.AwaitHeld(1), 1);
  ASSERT_TRUE(sender.Send({}).ok());  // waits in the queue
  EXPECT_EQ(sender.Send({}).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner.ReleaseAndAwaitDelivered(2), 2);
}

}  // namespace
}  // namespace klaxon::sandbox
