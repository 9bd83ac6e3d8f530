#include "common/concurrency/batch_workers.h"

#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::concurrency {
namespace {

TEST(BatchWorkersTest, ALoneItemIsWorkedOnAtOnce) {
  std::latch done(1);
  BatchWorkers<int> workers({.threads = 1}, [&](std::vector<int> batch) {
    EXPECT_THAT(batch, ::testing::ElementsAre(7));
    done.count_down();
  });
  int item = 7;
  ASSERT_TRUE(workers.Submit(item));
  done.wait();
}

// What queued while the only thread was busy is taken in one batch, in order, at most max_batch.
TEST(BatchWorkersTest, ItemsThatWaitedAreTakenTogetherUpToMaxBatch) {
  std::latch first_taken(1);
  std::latch release(1);
  std::mutex mutex;
  std::vector<std::vector<int>> batches;
  {
    BatchWorkers<int> workers({.threads = 1, .max_batch = 3}, [&](std::vector<int> batch) {
      {
        std::lock_guard lock(mutex);
        batches.push_back(batch);
      }
      if (batch.front() == 0) {
        first_taken.count_down();
        release.wait();
      }
    });
    int first = 0;
    ASSERT_TRUE(workers.Submit(first));
    first_taken.wait();
    // EXPECT, not ASSERT: returning early would leave the worker waiting on `release`.
    for (int i = 1; i <= 5; ++i) EXPECT_TRUE(workers.Submit(i));
    release.count_down();
  }
  EXPECT_THAT(batches,
              ::testing::ElementsAre(::testing::ElementsAre(0), ::testing::ElementsAre(1, 2, 3),
                                     ::testing::ElementsAre(4, 5)));
}

TEST(BatchWorkersTest, RefusesItemsBeyondTheQueueBound) {
  std::latch taken(1);
  std::latch release(1);
  BatchWorkers<std::unique_ptr<int>> workers({.threads = 1, .max_queued = 1},
                                             [&](std::vector<std::unique_ptr<int>>) {
                                               taken.count_down();
                                               release.wait();
                                             });
  auto busy = std::make_unique<int>(1);
  ASSERT_TRUE(workers.Submit(busy));
  taken.wait();  // the only thread is busy, so the next item waits in the queue
  auto waiting = std::make_unique<int>(2);
  EXPECT_TRUE(workers.Submit(waiting));
  EXPECT_EQ(waiting, nullptr);  // moved into the queue
  auto refused = std::make_unique<int>(3);
  EXPECT_FALSE(workers.Submit(refused));
  // Still the caller's, to shed or answer.
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(*refused, 3);
  release.count_down();
}

TEST(BatchWorkersTest, DrainWorksOffWhatWasAcceptedThenRefusesMore) {
  std::atomic<int> worked = 0;
  BatchWorkers<int> workers(
      {.threads = 2}, [&](std::vector<int> batch) { worked += static_cast<int>(batch.size()); });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(workers.Submit(i));
  workers.Drain();
  EXPECT_EQ(worked.load(), 10);
  int late = 11;
  EXPECT_FALSE(workers.Submit(late));
}

}  // namespace
}  // namespace klaxon::concurrency
