#include "common/messaging/thread_pool_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace klaxon::messaging {
namespace {

using std::chrono::seconds;

// Blocks every call until Release(); counts the calls running at once.
class GateHandler final : public MessageHandler {
 public:
  absl::Status Handle(const InboundMessage& message) override {
    std::unique_lock lock(mutex_);
    ++running_;
    threads_.push_back(std::this_thread::get_id());
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
    --running_;
    return message.key == "bad" ? absl::InvalidArgumentError("bad") : absl::OkStatus();
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  // Waits (up to a deadline) until `count` calls run at once.
  bool WaitRunning(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, seconds(10), [&] { return running_ == count; });
  }
  int running() {
    std::lock_guard lock(mutex_);
    return running_;
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int running_ = 0;
  bool released_ = false;
  std::vector<std::thread::id> threads_;
};

// Collects the results handed to the completions.
class Results {
 public:
  HandleDone Done() {
    return [this](absl::Status status) {
      std::lock_guard lock(mutex_);
      statuses_.push_back(std::move(status));
      changed_.notify_all();
    };
  }
  std::vector<absl::Status> WaitFor(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, seconds(10), [&] { return statuses_.size() >= count; });
    return statuses_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<absl::Status> statuses_;
};

TEST(ThreadPoolHandlerTest, HandsTheHandlersResultToTheCompletionFromAPoolThread) {
  GateHandler handler;
  Results results;
  ThreadPoolHandler pooled(handler, {.threads = 1});
  const InboundMessage bad{.key = "bad"};
  pooled.Handle(bad, results.Done());
  handler.Release();
  const std::vector<absl::Status> statuses = results.WaitFor(1);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(handler.threads().size(), 1u);
  EXPECT_NE(handler.threads()[0], std::this_thread::get_id());
}

TEST(ThreadPoolHandlerTest, HandlesNoMoreMessagesAtOnceThanItHasThreads) {
  GateHandler handler;
  Results results;
  ThreadPoolHandler pooled(handler, {.threads = 2});
  const std::vector<InboundMessage> messages(3);
  for (const InboundMessage& message : messages) pooled.Handle(message, results.Done());
  ASSERT_TRUE(handler.WaitRunning(2));
  // The third waits in the queue while both threads are taken.
  EXPECT_EQ(handler.running(), 2);
  handler.Release();
  EXPECT_EQ(results.WaitFor(3).size(), 3u);
}

bool NotMine(const InboundMessage& message) { return message.key != "not-mine"; }

TEST(ThreadPoolHandlerTest, ConcludesAMessageItsTestRefusesBeforeHandleReturns) {
  GateHandler handler;  // never released: a message that reached it would never complete
  ThreadPoolHandler pooled(handler, {.threads = 1, .wants = NotMine});
  std::optional<absl::Status> result;
  const InboundMessage not_mine{.key = "not-mine"};
  pooled.Handle(not_mine, [&result](absl::Status status) { result = std::move(status); });
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok());
  EXPECT_TRUE(handler.threads().empty());
}

TEST(ThreadPoolHandlerTest, HandsAMessageItsTestWantsToTheHandler) {
  GateHandler handler;
  Results results;
  ThreadPoolHandler pooled(handler, {.threads = 1, .wants = NotMine});
  const InboundMessage mine{.key = "mine"};
  pooled.Handle(mine, results.Done());
  EXPECT_TRUE(handler.WaitRunning(1));
  handler.Release();
  EXPECT_EQ(results.WaitFor(1).size(), 1u);
}

}  // namespace
}  // namespace klaxon::messaging
