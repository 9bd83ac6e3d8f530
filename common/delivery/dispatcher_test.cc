#include "common/delivery/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/delivery/in_memory_attempt_ledger.h"
#include "common/messaging/testing/fake_publisher.h"

namespace klaxon::delivery {
namespace {

using events::v1::DeliveryEvent;
using events::v1::DeliveryOutcome;
using ::testing::HasSubstr;

class ScriptedSender final : public Sender {
 public:
  SendResult Send(const events::v1::AlertRequested&) override {
    ++calls;
    return next;
  }
  SendResult next{.kind = SendResult::Kind::kAccepted, .sid = "SM1", .provider_status = "queued"};
  int calls = 0;
};

class CountingObserver final : public DispatchObserver {
 public:
  void OnSent(const events::v1::AlertRequested&, const SendResult&, absl::Duration) override {
    ++sent;
  }
  void OnOutcomeRepublished(const events::v1::AlertRequested&) override { ++republished; }
  void OnHandedBack(const events::v1::AlertRequested&, const absl::Status&) override {
    ++handed_back;
  }
  int sent = 0;
  int republished = 0;
  int handed_back = 0;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest()
      : dispatcher_({.outcome_topic = "t.delivery",
                     .worker_id = "worker-1",
                     .claim_lease = absl::Minutes(2)},
                    ledger_, sender_, publisher_, observer_, [this] { return now_; }) {}

  static messaging::InboundMessage Request(uint32_t attempt = 1) {
    events::v1::AlertRequested request;
    request.mutable_header()->set_alert_id("a1");
    request.mutable_header()->set_caller("billing");
    request.mutable_header()->set_attempt(attempt);
    request.set_recipient("+14155552671");
    request.set_text("disk full");
    return {.topic = "t.sms", .key = "a1", .value = request.SerializeAsString()};
  }

  DeliveryEvent OnlyPublished() {
    EXPECT_EQ(publisher_.published().size(), 1u);
    DeliveryEvent event;
    EXPECT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
    return event;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  InMemoryAttemptLedger ledger_;
  ScriptedSender sender_;
  messaging::FakePublisher publisher_;
  CountingObserver observer_;
  Dispatcher dispatcher_;
};

TEST_F(DispatcherTest, PublishesAcceptedOutcomeKeyedByAlert) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(publisher_.published().at(0).topic, "t.delivery");
  EXPECT_EQ(publisher_.published().at(0).key, "a1");
  DeliveryEvent event = OnlyPublished();
  EXPECT_EQ(event.header().alert_id(), "a1");
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(event.outcome().twilio_sid(), "SM1");
}

TEST_F(DispatcherTest, RedeliveredRequestRepublishesWithoutSendingAgain) {
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(observer_.republished, 1);
  ASSERT_EQ(publisher_.published().size(), 2u);
  DeliveryEvent first;
  DeliveryEvent second;
  ASSERT_TRUE(first.ParseFromString(publisher_.published()[0].value));
  ASSERT_TRUE(second.ParseFromString(publisher_.published()[1].value));
  EXPECT_EQ(second.outcome().SerializeAsString(), first.outcome().SerializeAsString());
}

TEST_F(DispatcherTest, NextAttemptIsSentSeparately) {
  ASSERT_TRUE(dispatcher_.Handle(Request(1)).ok());
  ASSERT_TRUE(dispatcher_.Handle(Request(2)).ok());
  EXPECT_EQ(sender_.calls, 2);
}

TEST_F(DispatcherTest, PermanentRejectionIsPublishedWithCode) {
  sender_.next = {.kind = SendResult::Kind::kRejected, .error_code = 21211, .reason = "invalid"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  DeliveryEvent event = OnlyPublished();
  EXPECT_EQ(event.outcome().kind(), DeliveryOutcome::KIND_REJECTED);
  EXPECT_EQ(event.outcome().twilio_error_code(), 21211);
}

TEST_F(DispatcherTest, RetryableFailureHandsBackAndReleasesTheAttempt) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .error_code = 20429, .reason = "busy"};
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(observer_.handed_back, 1);

  sender_.next = {.kind = SendResult::Kind::kAccepted, .sid = "SM2"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 2);
  EXPECT_EQ(OnlyPublished().outcome().twilio_sid(), "SM2");
}

TEST_F(DispatcherTest, UnknownOutcomeIsNeverResent) {
  sender_.next = {.kind = SendResult::Kind::kUnknown, .reason = "timeout"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_GAVE_UP);
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
}

TEST_F(DispatcherTest, FreshClaimByAnotherWorkerMakesUsWait) {
  ledger_.AbandonClaim("a1", 1, "worker-0", now_ - absl::Seconds(10));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DispatcherTest, ExpiredClaimEndsAsUnknownWithoutResending) {
  ledger_.AbandonClaim("a1", 1, "worker-0", now_ - absl::Minutes(3));
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 0);
  DeliveryEvent event = OnlyPublished();
  EXPECT_EQ(event.outcome().kind(), DeliveryOutcome::KIND_GAVE_UP);
  EXPECT_THAT(event.outcome().reason(), HasSubstr("unknown"));
}

TEST_F(DispatcherTest, PublishFailureIsRetryableAndRetryDoesNotResend) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
}

TEST_F(DispatcherTest, OutcomeTheLedgerRefusedIsRecordedOnRetryWithoutResending) {
  ledger_.FailNextRecordOutcome(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty()) << "published before the ledger had it";

  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1);
  EXPECT_EQ(OnlyPublished().outcome().kind(), DeliveryOutcome::KIND_ACCEPTED);
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 1) << "the recorded outcome must be republished, not resent";
}

TEST_F(DispatcherTest, OwnClaimLeftByAFailedReleaseIsClaimedAgain) {
  sender_.next = {.kind = SendResult::Kind::kRetryable, .error_code = 20429, .reason = "busy"};
  ledger_.FailNextRelease(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);

  sender_.next = {.kind = SendResult::Kind::kAccepted, .sid = "SM2"};
  ASSERT_TRUE(dispatcher_.Handle(Request()).ok());
  EXPECT_EQ(sender_.calls, 2);
  EXPECT_EQ(OnlyPublished().outcome().twilio_sid(), "SM2");
}

TEST_F(DispatcherTest, LedgerDownMeansNothingIsSent) {
  ledger_.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(dispatcher_.Handle(Request()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sender_.calls, 0);
}

TEST_F(DispatcherTest, MalformedMessageIsInvalidArgument) {
  EXPECT_EQ(dispatcher_.Handle({.topic = "t.sms", .value = "\xff\xff"}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::delivery
