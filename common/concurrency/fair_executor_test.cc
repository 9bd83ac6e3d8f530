#include "common/concurrency/fair_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"

namespace klaxon::concurrency {
namespace {

// One thread, held by a first task until released, so the test lines tasks up behind it.
class FairExecutorTest : public ::testing::Test {
 protected:
  void Hold() {
    ASSERT_TRUE(executor_.Submit("flood", [this] {
      started_.Notify();
      release_.WaitForNotification();
    }));
    started_.WaitForNotification();
  }
  std::function<void()> Record(std::string name) {
    return [this, name] {
      std::lock_guard lock(mutex_);
      ran_.push_back(name);
    };
  }
  std::vector<std::string> Ran() {
    std::lock_guard lock(mutex_);
    return ran_;
  }

  absl::Notification started_;
  absl::Notification release_;
  std::mutex mutex_;
  std::vector<std::string> ran_;
  FairExecutor executor_{{.threads = 1, .max_queued = 8, .max_queued_per_key = 5}};
};

TEST_F(FairExecutorTest, AnotherKeysTaskWaitsForOneOfTheFloodsNotAllOfThem) {
  ASSERT_NO_FATAL_FAILURE(Hold());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(executor_.Submit("flood", Record("flood")));
  ASSERT_TRUE(executor_.Submit("billing", Record("billing")));
  release_.Notify();
  while (Ran().size() < 5) std::this_thread::yield();
  EXPECT_EQ(Ran(), (std::vector<std::string>{"flood", "billing", "flood", "flood", "flood"}));
}

TEST_F(FairExecutorTest, AKeyPastItsShareIsRefusedWhileOthersAreTaken) {
  ASSERT_NO_FATAL_FAILURE(Hold());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(executor_.Submit("flood", Record("flood")));
  EXPECT_FALSE(executor_.Submit("flood", Record("flood")));
  EXPECT_TRUE(executor_.Submit("billing", Record("billing")));
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(executor_.Submit("payments", Record("payments")));
  EXPECT_FALSE(executor_.Submit("payments", Record("payments"))) << "the queue holds 8";
  release_.Notify();
}

TEST(FairExecutorDestructionTest, RunsEveryAcceptedTask) {
  std::atomic<int> ran = 0;
  {
    FairExecutor executor({.threads = 2, .max_queued = 100, .max_queued_per_key = 100});
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(executor.Submit(i % 2 == 0 ? "a" : "b", [&ran] { ++ran; }));
    }
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace klaxon::concurrency
