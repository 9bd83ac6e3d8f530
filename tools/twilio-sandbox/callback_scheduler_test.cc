#include "tools/twilio-sandbox/callback_scheduler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/scripted_http_server.h"

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

// Answers each Send with the next of `answers`, recording how many it was asked.
class ScriptedSender : public CallbackSender {
 public:
  explicit ScriptedSender(std::vector<absl::Status> answers) : answers_(std::move(answers)) {}
  absl::Status Send(const StatusCallback&) override { return answers_.at(calls_++); }
  size_t calls() const { return calls_; }

 private:
  std::vector<absl::Status> answers_;
  size_t calls_ = 0;
};

TEST(ConnectRetryingCallbackSenderTest, AFailedConnectionIsTriedOnceMoreAfterTheDelay) {
  ScriptedSender inner({absl::UnavailableError("refused"), absl::OkStatus()});
  ConnectRetryingCallbackSender sender(inner, absl::Milliseconds(50));
  const absl::Time started = absl::Now();
  EXPECT_TRUE(sender.Send({}).ok());
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(50));
  EXPECT_EQ(inner.calls(), 2u);
}

TEST(ConnectRetryingCallbackSenderTest, OnlyOnce) {
  ScriptedSender inner({absl::UnavailableError("refused"), absl::UnavailableError("refused")});
  ConnectRetryingCallbackSender sender(inner, absl::ZeroDuration());
  EXPECT_EQ(sender.Send({}).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner.calls(), 2u);
}

TEST(ConnectRetryingCallbackSenderTest, ACallbackThatReachedTheReceiverIsNotSentAgain) {
  for (const absl::Status& answer :
       {absl::FailedPreconditionError("HTTP 500"), absl::UnknownError("timed out")}) {
    ScriptedSender inner({answer});
    ConnectRetryingCallbackSender sender(inner, absl::ZeroDuration());
    EXPECT_EQ(sender.Send({}).code(), answer.code());
    EXPECT_EQ(inner.calls(), 1u);
  }
}

TEST(CurlCallbackSenderTest, TellsAFailedConnectionFromAnAnswer) {
  CurlCallbackSender sender(absl::Seconds(5));
  testing::ScriptedServer server([](const testing::RecordedRequest&) {
    return std::optional<std::string>("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  });
  EXPECT_EQ(sender.Send({.url = server.base_url() + "/cb", .params = {{"A", "1"}}}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(server.requests().size(), 1u);

  // A port nothing listens on: the kernel picked it free, and it was closed again.
  const int socket_fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(socket_fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(socket_fd);
  EXPECT_EQ(sender.Send({.url = absl::StrCat("http://127.0.0.1:", ntohs(address.sin_port), "/cb")})
                .code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::sandbox
