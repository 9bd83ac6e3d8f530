#include "services/delivery/tier_handler.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/timing/fake_clock.h"
#include "google/protobuf/util/time_util.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {
namespace {

constexpr absl::Duration kTierDelay = absl::Minutes(1);

class RecordingHandler final : public messaging::MessageHandler {
 public:
  explicit RecordingHandler(timing::FakeClock& fake_clock) : clock(fake_clock) {}
  absl::Status Handle(const messaging::InboundMessage& message) override {
    handled_at.push_back(clock.Now());
    handled.push_back(message);
    return status;
  }
  timing::FakeClock& clock;
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

class TierHandlerTest : public ::testing::Test {
 protected:
  messaging::InboundMessage Message(std::optional<absl::Time> not_before) {
    events::v1::AlertRequested request;
    request.mutable_header()->set_alert_id("alert-1");
    if (not_before) {
      *request.mutable_not_before() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(*not_before));
    }
    return {.topic = "klaxon.sms.retry.1m", .value = request.SerializeAsString()};
  }
  TierHandler Handler(std::stop_token stop = {}) {
    return TierHandler({.max_wait = kTierDelay, .wait_slice = absl::Seconds(1), .stop = stop},
                       next_, scheduler_, clock_);
  }

  timing::FakeClock clock_;
  RecordingHandler next_{clock_};
  RecordingScheduler scheduler_;
};

TEST_F(TierHandlerTest, HandsOnAtNotBefore) {
  const absl::Time not_before = clock_.Now() + absl::Milliseconds(2500);
  ASSERT_TRUE(Handler().Handle(Message(not_before)).ok());
  ASSERT_EQ(next_.handled_at.size(), 1u);
  EXPECT_EQ(next_.handled_at[0], not_before);
}

TEST_F(TierHandlerTest, WaitsInSlices) {
  Handler().Handle(Message(clock_.Now() + absl::Milliseconds(2500))).IgnoreError();
  EXPECT_EQ(clock_.sleeps(), (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(1),
                                                          absl::Milliseconds(500)}));
}

TEST_F(TierHandlerTest, DueMessageIsHandledWithoutWaiting) {
  ASSERT_TRUE(Handler().Handle(Message(clock_.Now() - absl::Seconds(5))).ok());
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(next_.handled.size(), 1u);
}

TEST_F(TierHandlerTest, MessageWithoutNotBeforeIsHandledAtOnce) {
  ASSERT_TRUE(Handler().Handle(Message(std::nullopt)).ok());
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(next_.handled.size(), 1u);
}

TEST_F(TierHandlerTest, ReturnsWhatNextReturns) {
  next_.status = absl::UnavailableError("redis down");
  EXPECT_EQ(Handler().Handle(Message(clock_.Now())).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TierHandlerTest, NotDueAfterTierDelayHopsThroughScheduler) {
  const absl::Time start = clock_.Now();
  const absl::Time not_before = start + absl::Minutes(12);
  ASSERT_TRUE(Handler().Handle(Message(not_before)).ok());
  EXPECT_EQ(clock_.Now(), start + kTierDelay);
  EXPECT_EQ(scheduler_.scheduled, std::vector<absl::Time>{not_before});
  EXPECT_TRUE(next_.handled.empty());
}

TEST_F(TierHandlerTest, HopFailureIsReturned) {
  scheduler_.status = absl::DeadlineExceededError("no ack");
  EXPECT_EQ(Handler().Handle(Message(clock_.Now() + absl::Hours(1))).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(TierHandlerTest, StopDuringWaitReturnsUnavailableWithoutHandling) {
  std::stop_source stop;
  clock_.OnSleep([&] {
    if (clock_.sleeps().size() == 3) stop.request_stop();
  });
  EXPECT_EQ(Handler(stop.get_token()).Handle(Message(clock_.Now() + absl::Minutes(1))).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
  EXPECT_TRUE(next_.handled.empty());
}

TEST_F(TierHandlerTest, RejectsValueThatIsNoRequest) {
  EXPECT_EQ(Handler().Handle({.topic = "klaxon.sms.retry.1m", .value = "\xff\xff"}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::delivery
