#include "tools/klaxonctl/wait.h"

#include <memory>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/klaxonctl/test_doubles.h"

namespace klaxon::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::Return;
using types::v1::ALERT_STATUS_DELIVERED;
using types::v1::ALERT_STATUS_FAILED;
using types::v1::ALERT_STATUS_QUEUED;
using types::v1::ALERT_STATUS_SENT;
using types::v1::ALERT_STATUS_UNDELIVERED;
using types::v1::ALERT_STATUS_UNSPECIFIED;

TEST(HasReachedTest, AcknowledgedImpliesDeliveredAndSent) {
  EXPECT_TRUE(HasReached(types::v1::ALERT_STATUS_ACKNOWLEDGED, ALERT_STATUS_DELIVERED));
  EXPECT_TRUE(HasReached(types::v1::ALERT_STATUS_ACKNOWLEDGED, ALERT_STATUS_SENT));
}

TEST(HasReachedTest, CancelledAndSuppressedDoNotImplySent) {
  EXPECT_FALSE(HasReached(types::v1::ALERT_STATUS_CANCELLED, ALERT_STATUS_SENT));
  EXPECT_FALSE(HasReached(types::v1::ALERT_STATUS_SUPPRESSED, ALERT_STATUS_SENT));
}

TEST(HasReachedTest, EveryKnownStatusImpliesQueued) {
  EXPECT_TRUE(HasReached(ALERT_STATUS_FAILED, ALERT_STATUS_QUEUED));
  EXPECT_FALSE(HasReached(ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_QUEUED));
}

TEST(HasReachedTest, CarrierOutcomesImplySent) {
  EXPECT_TRUE(HasReached(ALERT_STATUS_DELIVERED, ALERT_STATUS_SENT));
  EXPECT_TRUE(HasReached(ALERT_STATUS_UNDELIVERED, ALERT_STATUS_SENT));
}

TEST(HasReachedTest, FailedDoesNotImplySent) {
  EXPECT_FALSE(HasReached(ALERT_STATUS_FAILED, ALERT_STATUS_SENT));
}

TEST(HasReachedTest, EarlierStatusHasNotReachedLaterOne) {
  EXPECT_FALSE(HasReached(ALERT_STATUS_SENT, ALERT_STATUS_DELIVERED));
  EXPECT_FALSE(HasReached(ALERT_STATUS_UNDELIVERED, ALERT_STATUS_DELIVERED));
}

class WaitForStatusTest : public ::testing::Test {
 protected:
  WaitForStatusTest() {
    auto query = std::make_unique<MockQueryStub>();
    query_ = query.get();
    client_ =
        std::make_unique<AlertClient>(std::make_unique<MockIntakeStub>(), std::move(query), "key");
  }

  absl::StatusOr<WaitResult> Wait(types::v1::AlertStatus target) {
    return WaitForStatus(*client_, "a1", target, options_, clock_);
  }

  timing::FakeClock clock_;
  WaitOptions options_{.timeout = absl::Seconds(1),
                       .rpc_timeout = absl::Milliseconds(300),
                       .first_poll_interval = absl::Milliseconds(250),
                       .max_poll_interval = absl::Milliseconds(400)};
  MockQueryStub* query_ = nullptr;
  std::unique_ptr<AlertClient> client_;
};

TEST_F(WaitForStatusTest, ReturnsOnceStatusArrivesWithGrowingPauses) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(ReturnAlertWithStatus(ALERT_STATUS_QUEUED))
      .WillOnce(ReturnAlertWithStatus(ALERT_STATUS_SENT))
      .WillOnce(ReturnAlertWithStatus(ALERT_STATUS_DELIVERED));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, WaitResult::Outcome::kReached);
  EXPECT_EQ(result->alert->status(), ALERT_STATUS_DELIVERED);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Milliseconds(250), absl::Milliseconds(400)));
}

TEST_F(WaitForStatusTest, StopsWhenAlertEndsInAnotherFinalStatus) {
  EXPECT_CALL(*query_, GetAlert).WillOnce(ReturnAlertWithStatus(ALERT_STATUS_FAILED));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, WaitResult::Outcome::kEndedElsewhere);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(WaitForStatusTest, TimesOutWithoutSleepingPastTheBudget) {
  EXPECT_CALL(*query_, GetAlert).Times(4).WillRepeatedly(ReturnAlertWithStatus(ALERT_STATUS_SENT));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, WaitResult::Outcome::kTimedOut);
  EXPECT_EQ(result->alert->status(), ALERT_STATUS_SENT);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Milliseconds(250), absl::Milliseconds(400),
                                           absl::Milliseconds(350)));
}

TEST_F(WaitForStatusTest, KeepsPollingWhileAuditHasNotSeenTheAlert) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such alert")))
      .WillOnce(ReturnAlertWithStatus(ALERT_STATUS_QUEUED));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_QUEUED);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, WaitResult::Outcome::kReached);
  EXPECT_TRUE(result->last_error.ok());
}

TEST_F(WaitForStatusTest, ReportsLastRetryableErrorOnTimeout) {
  EXPECT_CALL(*query_, GetAlert)
      .WillRepeatedly(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outcome, WaitResult::Outcome::kTimedOut);
  EXPECT_FALSE(result->alert.has_value());
  EXPECT_EQ(result->last_error.code(), absl::StatusCode::kUnavailable);
}

TEST_F(WaitForStatusTest, ReturnsPermanentErrorAtOnce) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not your alert")));
  const absl::StatusOr<WaitResult> result = Wait(ALERT_STATUS_DELIVERED);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(WaitForStatusTest, GivesEachPollItsOwnDeadline) {
  std::vector<std::chrono::system_clock::time_point> deadlines;
  EXPECT_CALL(*query_, GetAlert)
      .WillRepeatedly([&](grpc::ClientContext* context, const alerts::v1::GetAlertRequest& request,
                          alerts::v1::Alert* alert) {
        deadlines.push_back(context->deadline());
        return ReturnAlertWithStatus(deadlines.size() < 2
                                         ? ALERT_STATUS_QUEUED
                                         : ALERT_STATUS_SENT)(context, request, alert);
      });
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(Wait(ALERT_STATUS_SENT).ok());
  EXPECT_THAT(deadlines, ElementsAre(absl::ToChronoTime(start + absl::Milliseconds(300)),
                                     absl::ToChronoTime(start + absl::Milliseconds(250 + 300))));
}

}  // namespace
}  // namespace klaxon::ctl
