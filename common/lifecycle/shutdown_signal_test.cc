#include "common/lifecycle/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "gtest/gtest.h"

namespace klaxon::lifecycle {
namespace {

// Generous bound for a signal to cross threads; the tests return as soon as it has.
constexpr absl::Duration kDeadline = absl::Seconds(10);

std::unique_ptr<ShutdownSignal> MakeSignal() {
  absl::StatusOr<std::unique_ptr<ShutdownSignal>> signal = ShutdownSignal::Create();
  EXPECT_TRUE(signal.ok()) << signal.status();
  return signal.ok() ? *std::move(signal) : nullptr;
}

TEST(ShutdownSignalTest, StartsNotTriggered) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  EXPECT_FALSE(signal->triggered());
  EXPECT_FALSE(signal->token().stop_requested());
  EXPECT_FALSE(signal->WaitFor(absl::Milliseconds(1)));
}

TEST(ShutdownSignalTest, TriggerStopsTheTokenWithoutASignal) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  const std::stop_token token = signal->token();
  signal->Trigger();
  EXPECT_TRUE(token.stop_requested());
  EXPECT_TRUE(signal->WaitFor(absl::ZeroDuration()));
  EXPECT_EQ(signal->signal_number(), 0);
}

TEST(ShutdownSignalTest, WaitReturnsWhenAnotherThreadTriggers) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  std::jthread trigger([&signal] { signal->Trigger(); });
  signal->Wait();
  EXPECT_TRUE(signal->triggered());
}

TEST(ShutdownSignalTest, RunsStopCallbacks) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  bool called = false;
  const std::stop_callback callback(signal->token(), [&called] { called = true; });
  signal->Trigger();
  EXPECT_TRUE(called);
}

// kill(getpid(), ...) rather than raise(): raise() directs the signal at the calling thread,
// where it is blocked and stays pending for that thread only, whereas the kubelet's SIGTERM is
// process-directed and reaches the watcher's signalfd, as here.
TEST(ShutdownSignalTest, AcceptsThreadsStartedAfterIt) {
  const std::unique_ptr<ShutdownSignal> first = MakeSignal();
  ASSERT_NE(first, nullptr);
  std::promise<void> release;
  std::jthread later([future = release.get_future()]() mutable { future.wait(); });
  // `later` inherited the blocked mask, so a second ShutdownSignal finds every thread safe.
  const absl::StatusOr<std::unique_ptr<ShutdownSignal>> second = ShutdownSignal::Create();
  release.set_value();
  EXPECT_TRUE(second.ok()) << second.status();
}

TEST(ShutdownSignalTest, RealSigtermStopsTheToken) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  ASSERT_TRUE(signal->WaitFor(kDeadline));
  EXPECT_TRUE(signal->token().stop_requested());
  EXPECT_EQ(signal->signal_number(), SIGTERM);
}

TEST(ShutdownSignalTest, RealSigintStopsTheToken) {
  const std::unique_ptr<ShutdownSignal> signal = MakeSignal();
  ASSERT_NE(signal, nullptr);
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  ASSERT_TRUE(signal->WaitFor(kDeadline));
  EXPECT_EQ(signal->signal_number(), SIGINT);
}

TEST(ShutdownSignalTest, RefusesWhenAThreadRunsWithoutBlockingTheSignals) {
  std::promise<void> unblocked;
  std::promise<void> release;
  std::jthread other([&unblocked, future = release.get_future()]() mutable {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    unblocked.set_value();
    future.wait();
  });
  unblocked.get_future().wait();
  const absl::StatusOr<std::unique_ptr<ShutdownSignal>> signal = ShutdownSignal::Create();
  release.set_value();
  EXPECT_EQ(signal.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace klaxon::lifecycle
