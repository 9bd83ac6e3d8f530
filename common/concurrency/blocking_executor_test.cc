#include "common/concurrency/blocking_executor.h"

#include <atomic>
#include <latch>

#include "gtest/gtest.h"

namespace klaxon::concurrency {
namespace {

TEST(BlockingExecutorTest, RunsSubmittedTasksOnItsThreads) {
  std::latch done(3);
  BlockingExecutor executor({.threads = 2, .max_queued = 8});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(executor.Submit([&] { done.count_down(); }));
  done.wait();
}

TEST(BlockingExecutorTest, RefusesWorkBeyondTheQueueBound) {
  std::latch running(1);
  std::latch release(1);
  BlockingExecutor executor({.threads = 1, .max_queued = 1});
  ASSERT_TRUE(executor.Submit([&] {
    running.count_down();
    release.wait();
  }));
  running.wait();  // the only thread is busy, so the next task waits in the queue
  EXPECT_TRUE(executor.Submit([] {}));
  EXPECT_FALSE(executor.Submit([] {}));
  release.count_down();
}

TEST(BlockingExecutorTest, DestructionRunsTasksAlreadyAccepted) {
  std::atomic<int> ran = 0;
  std::latch release(1);
  {
    BlockingExecutor executor({.threads = 1, .max_queued = 4});
    ASSERT_TRUE(executor.Submit([&] {
      release.wait();
      ++ran;
    }));
    ASSERT_TRUE(executor.Submit([&] { ++ran; }));
    release.count_down();
  }
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace klaxon::concurrency
