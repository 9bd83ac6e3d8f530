#include "tools/twilio-sandbox/callback_scheduler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
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
    ConcurrentCallbackSender sender(inner, {.pool = {.threads = 4, .max_queued = 100}});
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(sender.Send({.url = "http://ingress/"}).ok()) << i;
    EXPECT_EQ(inner.AwaitHeld(4), 4);
    EXPECT_EQ(inner.ReleaseAndAwaitDelivered(10), 10);
  }
  EXPECT_EQ(inner.most_at_once(), 4);
}

TEST(ConcurrentCallbackSenderTest, AFullQueueDropsTheCallback) {
  HoldingSender inner;
  ConcurrentCallbackSender sender(inner, {.pool = {.threads = 1, .max_queued = 1}});
  ASSERT_TRUE(sender.Send({}).ok());
  ASSERT_EQ(inner.AwaitHeld(1), 1);
  ASSERT_TRUE(sender.Send({}).ok());  // waits in the queue
  EXPECT_EQ(sender.Send({}).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner.ReleaseAndAwaitDelivered(2), 2);
}

// Answers the Sends to each URL with the next of that URL's answers (OK once they run out),
// recording when each came.
class ScriptedSender : public CallbackSender {
 public:
  explicit ScriptedSender(std::map<std::string, std::vector<absl::Status>> answers)
      : answers_(std::move(answers)) {}
  absl::Status Send(const StatusCallback& callback) override {
    std::lock_guard lock(mutex_);
    std::vector<absl::Time>& calls = calls_[callback.url];
    calls.push_back(absl::Now());
    const std::vector<absl::Status>& answers = answers_[callback.url];
    const absl::Status answer =
        calls.size() <= answers.size() ? answers[calls.size() - 1] : absl::OkStatus();
    changed_.notify_all();
    return answer;
  }
  // Waits (at most `timeout`) until `url` was sent `count` times; when each came.
  std::vector<absl::Time> AwaitCalls(const std::string& url, size_t count,
                                     absl::Duration timeout = absl::Seconds(5)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return calls_[url].size() >= count; });
    return calls_[url];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<absl::Status>> answers_;  // guarded by mutex_
  std::map<std::string, std::vector<absl::Time>> calls_;      // guarded by mutex_
};

TEST(ConcurrentCallbackSenderTest, AFailedConnectionIsTriedOnceMoreAfterTheDelay) {
  ScriptedSender inner({{"refused", {absl::UnavailableError("refused")}}});
  ConcurrentCallbackSender sender(
      inner, {.pool = {.threads = 1, .max_queued = 10}, .connect_retry = absl::Milliseconds(50)});
  ASSERT_TRUE(sender.Send({.url = "refused"}).ok());
  const std::vector<absl::Time> calls = inner.AwaitCalls("refused", 2);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_GE(calls[1] - calls[0], absl::Milliseconds(50));
}

TEST(ConcurrentCallbackSenderTest, AWaitingRetryHoldsNoThread) {
  ScriptedSender inner({{"refused", {absl::UnavailableError("refused")}}});
  ConcurrentCallbackSender sender(
      inner, {.pool = {.threads = 1, .max_queued = 10}, .connect_retry = absl::Seconds(30)});
  ASSERT_TRUE(sender.Send({.url = "refused"}).ok());
  ASSERT_EQ(inner.AwaitCalls("refused", 1).size(), 1u);
  // The pool's one thread is free for the next callback while the first waits for its retry.
  ASSERT_TRUE(sender.Send({.url = "next"}).ok());
  EXPECT_EQ(inner.AwaitCalls("next", 1).size(), 1u);
}

// A retry that would come, 20 ms after the try before it, has come within this.
constexpr absl::Duration kNoMoreRetries = absl::Milliseconds(500);

TEST(ConcurrentCallbackSenderTest, OnlyOnce) {
  ScriptedSender inner(
      {{"refused", {absl::UnavailableError("refused"), absl::UnavailableError("refused")}}});
  ConcurrentCallbackSender sender(
      inner, {.pool = {.threads = 1, .max_queued = 10}, .connect_retry = absl::Milliseconds(20)});
  ASSERT_TRUE(sender.Send({.url = "refused"}).ok());
  ASSERT_EQ(inner.AwaitCalls("refused", 2).size(), 2u);
  EXPECT_EQ(inner.AwaitCalls("refused", 3, kNoMoreRetries).size(), 2u);
}

TEST(ConcurrentCallbackSenderTest, ACallbackThatReachedTheReceiverIsNotSentAgain) {
  ScriptedSender inner({{"500", {absl::FailedPreconditionError("HTTP 500")}},
                        {"timeout", {absl::UnknownError("timed out")}}});
  ConcurrentCallbackSender sender(
      inner, {.pool = {.threads = 1, .max_queued = 10}, .connect_retry = absl::Milliseconds(20)});
  for (const char* url : {"500", "timeout"}) ASSERT_TRUE(sender.Send({.url = url}).ok()) << url;
  ASSERT_EQ(inner.AwaitCalls("timeout", 1).size(), 1u);
  EXPECT_EQ(inner.AwaitCalls("500", 2, kNoMoreRetries).size(), 1u);
  EXPECT_EQ(inner.AwaitCalls("timeout", 2, kNoMoreRetries).size(), 1u);
}

TEST(ConcurrentCallbackSenderTest, DestructionDropsTheRetriesStillWaiting) {
  ScriptedSender inner({{"refused", {absl::UnavailableError("refused")}}});
  absl::Time destroyed_at;
  {
    ConcurrentCallbackSender sender(
        inner, {.pool = {.threads = 1, .max_queued = 10}, .connect_retry = absl::Hours(1)});
    ASSERT_TRUE(sender.Send({.url = "refused"}).ok());
    // The pool's one thread took "next" after it finished with "refused", retry scheduled.
    ASSERT_TRUE(sender.Send({.url = "next"}).ok());
    ASSERT_EQ(inner.AwaitCalls("next", 1).size(), 1u);
    destroyed_at = absl::Now();
  }
  EXPECT_LT(absl::Now() - destroyed_at, absl::Seconds(5)) << "waited for the retry";
  EXPECT_EQ(inner.AwaitCalls("refused", 0).size(), 1u);
}

TEST(CurlCallbackSenderTest, TellsAFailedConnectionFromAnAnswer) {
  CurlCallbackSender sender(absl::Seconds(5), /*max_idle=*/1);
  testing::ScriptedServer server([](const testing::RecordedRequest&) {
    return std::optional<std::string>("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  });
  EXPECT_EQ(sender.Send({.url = server.base_url() + "/cb", .params = {{"A", "1"}}}).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(server.requests().size(), 1u);

  // A port nothing listens on.
  EXPECT_EQ(
      sender.Send({.url = absl::StrCat("http://127.0.0.1:", testing::FreePort(), "/cb")}).code(),
      absl::StatusCode::kUnavailable);
}

TEST(CurlCallbackSenderTest, KeepsAnAnsweredConnectionForTheNextCallback) {
  CurlCallbackSender sender(absl::Seconds(5), /*max_idle=*/1);
  testing::ScriptedServer server([](const testing::RecordedRequest& request) {
    const bool refuse = absl::StrContains(request.body, "refuse");
    return std::optional<std::string>(refuse ? "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
                                             : "HTTP/1.1 204 No Content\r\n\r\n");
  });
  const std::string url = server.base_url() + "/cb";
  EXPECT_TRUE(sender.Send({.url = url, .params = {{"MessageStatus", "sent"}}}).ok());
  EXPECT_TRUE(sender.Send({.url = url, .params = {{"MessageStatus", "delivered"}}}).ok());
  // A 500 is an answer too: the connection stays sound.
  EXPECT_EQ(sender.Send({.url = url, .params = {{"A", "refuse"}}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(sender.Send({.url = url, .params = {{"MessageStatus", "read"}}}).ok());
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(server.connections_accepted(), 1);
  // What keeps a Pistache Http::Endpoint from closing the connection after its answer.
  EXPECT_TRUE(absl::StrContains(requests[0].headers, "Connection: keep-alive"))
      << requests[0].headers;
}

// How many times `part` occurs in `text`.
int Occurrences(const std::string& text, const std::string& part) {
  int found = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++found;
  }
  return found;
}

// A receiver that answers the first callback on a connection, then takes the second and goes away
// without answering, its port closed too: libcurl's new connection for the second is refused, but
// the receiver had it, so the callback is not one that "never reached the receiver".
TEST(CurlCallbackSenderTest, ACallbackLostWithItsKeptConnectionMayHaveArrived) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t length = sizeof(address);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  std::atomic<int> received{0};
  std::thread receiver([&] {
    const int connection = accept(listener, nullptr, nullptr);
    std::string seen;
    const auto await = [&](int requests) {
      while (Occurrences(seen, "\r\n\r\nA=1") < requests) {
        char chunk[4096];
        const ssize_t got = recv(connection, chunk, sizeof(chunk), 0);
        if (got <= 0) return false;
        seen.append(chunk, static_cast<size_t>(got));
      }
      received = requests;
      return true;
    };
    if (await(1)) {
      const std::string answer = "HTTP/1.1 204 No Content\r\n\r\n";
      send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      await(2);
    }
    close(listener);  // before the connection, so libcurl's next connect is refused
    close(connection);
  });
  CurlCallbackSender sender(absl::Seconds(5), /*max_idle=*/1);
  const std::string url = absl::StrCat("http://127.0.0.1:", ntohs(address.sin_port), "/cb");
  EXPECT_TRUE(sender.Send({.url = url, .params = {{"A", "1"}}}).ok());
  const absl::Status second = sender.Send({.url = url, .params = {{"A", "1"}}});
  receiver.join();
  EXPECT_EQ(received, 2);
  EXPECT_EQ(second.code(), absl::StatusCode::kUnknown) << second;
}

}  // namespace
}  // namespace klaxon::sandbox
