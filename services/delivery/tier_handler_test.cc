#include "services/delivery/tier_handler.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/timing/fake_clock.h"
#include "common/timing/manual_timers.h"
#include "google/protobuf/util/time_util.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {
namespace {

constexpr absl::Duration kTierDelay = absl::Minutes(1);

class RecordingHandler final : public messaging::MessageHandler {
 public:
  explicit RecordingHandler(timing::FakeClock& fake_clock) : clock(fake_clock) {}
  absl::Status Handle(const messaging::InboundMessage& message) override {
    std::lock_guard lock(mutex);
    handled_at.push_back(clock.Now());
    handled.push_back(message);
    return status;
  }
  timing::FakeClock& clock;
  std::mutex mutex;
  absl::Status status = absl::OkStatus();
  std::vector<absl::Time> handled_at = {};
  std::vector<messaging::InboundMessage> handled = {};
};

class RecordingScheduler final : public RetryScheduler {
 public:
  absl::Status Schedule(const events::v1::AlertRequested&, absl::Time not_before) override {
    scheduled.push_back(not_before);
    return status;
  }
  absl::Status status = absl::OkStatus();
  std::vector<absl::Time> scheduled = {};
};

// One message's completion, as the consumer would see it.
struct Completion {
  absl::Notification done;
  absl::Status status;

  // The status once `done` came, or nullopt when it did not within 10 s.
  std::optional<absl::Status> Await() {
    if (!done.WaitForNotificationWithTimeout(absl::Seconds(10))) return std::nullopt;
    return status;
  }
};

class TierHandlerTest : public ::testing::Test {
 protected:
  static messaging::InboundMessage Message(std::optional<absl::Time> not_before) {
    events::v1::AlertRequested request;
    request.mutable_header()->set_alert_id("alert-1");
    if (not_before) {
      *request.mutable_not_before() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*not_before));
    }
    return {.topic = "klaxon.sms.retry.1m", .value = request.SerializeAsString()};
  }

  // Hands `message` to the handler, which may complete it later; the message lives as long as
  // the test, as a consumer keeps it until its completion.
  Completion& Start(messaging::InboundMessage message) {
    const messaging::InboundMessage& kept = messages_.emplace_back(std::move(message));
    Completion& completion = completions_.emplace_back();
    handler_.Handle(kept, [&completion](absl::Status status) {
      completion.status = std::move(status);
      completion.done.Notify();
    });
    return completion;
  }

  // Moves the clock on by `duration` and fires the timers due by then.
  void Pass(absl::Duration duration) {
    clock_.Advance(duration);
    timers_.RunDue(clock_.Now());
  }

  // First, so that they outlive whatever the pool still runs.
  std::deque<messaging::InboundMessage> messages_;
  std::deque<Completion> completions_;
  timing::FakeClock clock_;
  timing::ManualTimers timers_;
  RecordingHandler next_{clock_};
  RecordingScheduler scheduler_;
  concurrency::BlockingExecutor pool_{{.threads = 1, .max_queued = 1000}};
  concurrency::BlockingExecutor urgent_pool_{{.threads = 1, .max_queued = 1000}};
  TierHandler handler_{{.max_wait = kTierDelay},
                       {.next = next_,
                        .scheduler = scheduler_,
                        .pool = pool_,
                        .urgent_pool = urgent_pool_,
                        .timers = timers_,
                        .clock = clock_}};
};

TEST_F(TierHandlerTest, HandsOnAtNotBefore) {
  const absl::Time not_before = clock_.Now() + absl::Milliseconds(2500);
  Completion& completion = Start(Message(not_before));
  EXPECT_EQ(timers_.next(), not_before);
  Pass(absl::Milliseconds(2499));
  EXPECT_FALSE(completion.done.HasBeenNotified());
  Pass(absl::Milliseconds(1));
  EXPECT_EQ(completion.Await(), absl::OkStatus());
  ASSERT_EQ(next_.handled_at.size(), 1u);
  EXPECT_EQ(next_.handled_at[0], not_before);
}

// The point of the timers: the pool's one thread is free while a thousand messages wait.
TEST_F(TierHandlerTest, HeldMessagesLeaveThePoolFree) {
  for (int i = 0; i < 1000; ++i) Start(Message(clock_.Now() + absl::Seconds(30)));
  Completion& due = Start(Message(clock_.Now()));
  EXPECT_EQ(due.Await(), absl::OkStatus());
  EXPECT_EQ(timers_.pending(), 1000u);
}

TEST_F(TierHandlerTest, ACriticalRequestNeverQueuesBehindNormalOnes) {
  absl::Notification release;
  pool_.Submit([&release] { release.WaitForNotification(); });  // the normal pool is busy
  Completion& normal = Start(Message(clock_.Now()));
  messaging::InboundMessage critical = Message(clock_.Now());
  events::v1::AlertRequested request;
  ASSERT_TRUE(request.ParseFromString(critical.value));
  request.set_priority(types::v1::PRIORITY_CRITICAL);
  critical.value = request.SerializeAsString();
  EXPECT_EQ(Start(std::move(critical)).Await(), absl::OkStatus());
  EXPECT_FALSE(normal.done.HasBeenNotified());
  release.Notify();
  EXPECT_EQ(normal.Await(), absl::OkStatus());
}

TEST_F(TierHandlerTest, DueMessageIsHandledWithoutWaiting) {
  EXPECT_EQ(Start(Message(clock_.Now() - absl::Seconds(5))).Await(), absl::OkStatus());
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(next_.handled.size(), 1u);
}

TEST_F(TierHandlerTest, MessageWithoutNotBeforeIsHandledAtOnce) {
  EXPECT_EQ(Start(Message(std::nullopt)).Await(), absl::OkStatus());
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_EQ(next_.handled.size(), 1u);
}

TEST_F(TierHandlerTest, ReturnsWhatNextReturns) {
  next_.status = absl::UnavailableError("redis down");
  EXPECT_EQ(Start(Message(clock_.Now())).Await(), next_.status);
}

TEST_F(TierHandlerTest, NotDueAfterTierDelayHopsThroughScheduler) {
  const absl::Time not_before = clock_.Now() + absl::Minutes(12);
  Completion& completion = Start(Message(not_before));
  EXPECT_EQ(timers_.next(), clock_.Now() + kTierDelay);
  Pass(kTierDelay);
  EXPECT_EQ(completion.Await(), absl::OkStatus());
  EXPECT_EQ(scheduler_.scheduled, std::vector<absl::Time>{not_before});
  EXPECT_TRUE(next_.handled.empty());
}

TEST_F(TierHandlerTest, HopFailureIsReturned) {
  scheduler_.status = absl::DeadlineExceededError("no ack");
  Completion& completion = Start(Message(clock_.Now() + absl::Hours(1)));
  Pass(kTierDelay);
  EXPECT_EQ(completion.Await(), scheduler_.status);
}

TEST_F(TierHandlerTest, StopWhileHeldCompletesUnavailableWithoutHandling) {
  Completion& completion = Start(Message(clock_.Now() + absl::Seconds(30)));
  timers_.Stop();
  const std::optional<absl::Status> status = completion.Await();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(next_.handled.empty());
}

// A rebalance never waits out a hold: the consumer gives a revoked partition's messages up, and a
// held one is given back at once, unstored, for the partition's next owner.
TEST_F(TierHandlerTest, GivenUpWhileHeldIsGivenBackAtOnce) {
  std::stop_source revoked;
  messaging::InboundMessage message = Message(clock_.Now() + absl::Seconds(30));
  message.given_up = revoked.get_token();
  Completion& completion = Start(std::move(message));
  EXPECT_FALSE(completion.done.HasBeenNotified());
  revoked.request_stop();
  // Never completed where the consumer gives it up (under its lock), but queued on the timers.
  EXPECT_FALSE(completion.done.HasBeenNotified());
  EXPECT_EQ(timers_.pending(), 2u);
  timers_.RunDue(clock_.Now());  // the clock has not moved: no hold has ended
  const std::optional<absl::Status> status = completion.Await();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  // Its time comes later and completes nothing more (a second completion would fail the test).
  Pass(absl::Seconds(30));
  EXPECT_EQ(timers_.pending(), 0u);
  EXPECT_TRUE(next_.handled.empty());
  EXPECT_TRUE(scheduler_.scheduled.empty());
}

TEST_F(TierHandlerTest, GivenUpBeforeItIsHeldIsGivenBackAtOnce) {
  std::stop_source revoked;
  revoked.request_stop();
  messaging::InboundMessage message = Message(clock_.Now() + absl::Seconds(30));
  message.given_up = revoked.get_token();
  Completion& completion = Start(std::move(message));
  timers_.RunDue(clock_.Now());
  const std::optional<absl::Status> status = completion.Await();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  Pass(absl::Seconds(30));
  EXPECT_TRUE(next_.handled.empty());
}

TEST_F(TierHandlerTest, StopAfterAGiveUpCompletesOnce) {
  std::stop_source revoked;
  messaging::InboundMessage message = Message(clock_.Now() + absl::Seconds(30));
  message.given_up = revoked.get_token();
  Completion& completion = Start(std::move(message));
  revoked.request_stop();
  timers_.Stop();  // both the give-up and the hold run "not due"
  const std::optional<absl::Status> status = completion.Await();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(next_.handled.empty());
}

TEST_F(TierHandlerTest, GivenUpAfterItsTimeChangesNothing) {
  std::stop_source revoked;
  messaging::InboundMessage message = Message(clock_.Now() + absl::Seconds(30));
  message.given_up = revoked.get_token();
  Completion& completion = Start(std::move(message));
  Pass(absl::Seconds(30));
  EXPECT_EQ(completion.Await(), absl::OkStatus());
  revoked.request_stop();
  EXPECT_EQ(timers_.pending(), 0u);  // the hold ended and no longer listens
  EXPECT_EQ(next_.handled.size(), 1u);
}

TEST_F(TierHandlerTest, RejectsValueThatIsNoRequest) {
  const std::optional<absl::Status> status =
      Start({.topic = "klaxon.sms.retry.1m", .value = "\xff\xff"}).Await();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kInvalidArgument);
}

TEST(TierConsumerPropertiesTest, OutlastTheTiersWaitAndRebalanceIncrementally) {
  const std::map<std::string, std::string> properties = TierConsumerProperties(absl::Minutes(5));
  EXPECT_EQ(properties.at("max.poll.interval.ms"), "600000");  // the wait and 5 minutes of work
  // Only the partitions that move give their held messages back (the Kafka integration test
  // CooperativeRebalanceGivesBackOnlyTheHeldMessagesOfPartitionsThatMove).
  EXPECT_EQ(properties.at("partition.assignment.strategy"), "cooperative-sticky");
}

}  // namespace
}  // namespace klaxon::delivery
