#include "services/ingress/alert_stops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/alert_lifetime/alert_lifetime.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "common/timing/fake_clock.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/in_memory_idempotency_store.h"

namespace klaxon::ingress {
namespace {

using stopped_alerts::StopReason;
using ::testing::HasSubstr;

constexpr char kStoppedAlertId[] = "0190f5d2-3c4b-7a00-8000-000000000001";

class RecordingStopObserver final : public StopObserver {
 public:
  void OnCancelled(std::string_view, std::string_view, bool already_cancelled,
                   StopReason stopped_by) override {
    cancelled.emplace_back(already_cancelled, stopped_by);
  }
  void OnAcknowledged(std::string_view, std::string_view, bool already_acknowledged) override {
    acknowledged.push_back(already_acknowledged);
  }
  void OnStopRefused(std::string_view, StopReason asked, const absl::Status& status) override {
    refused.emplace_back(asked, status.code());
  }
  std::vector<std::pair<bool, StopReason>> cancelled;
  std::vector<bool> acknowledged;
  std::vector<std::pair<StopReason, absl::StatusCode>> refused;
};

class AlertStopsTest : public ::testing::Test {
 protected:
  AlertStopsTest()
      : stops_({.topic = "t.delivery"}, owners_, stopped_, publisher_, observer_, clock_) {
    EXPECT_TRUE(owners_
                    .Reserve("billing", "k1",
                             {.alert_id = kStoppedAlertId, .channel = types::v1::CHANNEL_VOICE},
                             absl::Hours(24))
                    .ok());
  }

  static alerts::v1::CancelAlertRequest Request(std::string alert_id = kStoppedAlertId) {
    alerts::v1::CancelAlertRequest request;
    request.set_alert_id(std::move(alert_id));
    return request;
  }

  static alerts::v1::AcknowledgeAlertRequest Ack(std::string alert_id = kStoppedAlertId) {
    alerts::v1::AcknowledgeAlertRequest request;
    request.set_alert_id(std::move(alert_id));
    return request;
  }

  // The one event published, parsed.
  events::v1::DeliveryEvent OnlyPublished() const {
    const std::vector<messaging::OutboundMessage> published = publisher_.published();
    events::v1::DeliveryEvent event;
    EXPECT_EQ(published.size(), 1u);
    if (!published.empty()) {
      EXPECT_TRUE(event.ParseFromString(published[0].value));
    }
    return event;
  }

  InMemoryIdempotencyStore owners_;
  stopped_alerts::InMemoryStoppedAlerts stopped_;
  messaging::FakePublisher publisher_;
  RecordingStopObserver observer_;
  timing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  AlertStops stops_;
};

TEST_F(AlertStopsTest, KeepsTheStopLongerThanAnyAlertLives) {
  absl::StatusOr<alerts::v1::CancelAlertResponse> response = stops_.Cancel("billing", Request());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->already_cancelled());
  EXPECT_EQ(*stopped_.Find(kStoppedAlertId), StopReason::kCancelled);
  EXPECT_GT(stopped_.last_keep_for(), alert_lifetime::kMaxScheduleAhead +
                                          alert_lifetime::kMaxQuietHold +
                                          alert_lifetime::kMaxTimeToLive);
}

TEST_F(AlertStopsTest, PublishesCancelRequestedKeyedByAlertId) {
  ASSERT_TRUE(stops_.Cancel("billing", Request()).ok());
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].topic, "t.delivery");
  EXPECT_EQ(published[0].key, kStoppedAlertId);
  events::v1::DeliveryEvent event;
  ASSERT_TRUE(event.ParseFromString(published[0].value));
  ASSERT_TRUE(event.has_cancel_requested());
  EXPECT_EQ(event.header().alert_id(), kStoppedAlertId);
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(event.header().attempt(), 1u);
  EXPECT_EQ(event.header().occurred_at().seconds(), 1'700'000'000);
}

TEST_F(AlertStopsTest, SecondCancelSaysAlreadyCancelledAndRepublishes) {
  ASSERT_TRUE(stops_.Cancel("billing", Request()).ok());
  absl::StatusOr<alerts::v1::CancelAlertResponse> again = stops_.Cancel("billing", Request());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_cancelled());
  EXPECT_EQ(publisher_.published().size(), 2u);
}

TEST_F(AlertStopsTest, AcknowledgedAlertStaysAcknowledged) {
  ASSERT_TRUE(stopped_.Stop(kStoppedAlertId, StopReason::kAcknowledged, absl::Hours(1)).ok());
  absl::StatusOr<alerts::v1::CancelAlertResponse> response = stops_.Cancel("billing", Request());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->already_cancelled());
  EXPECT_EQ(*stopped_.Find(kStoppedAlertId), StopReason::kAcknowledged);
  ASSERT_EQ(observer_.cancelled.size(), 1u);
  EXPECT_EQ(observer_.cancelled[0].second, StopReason::kAcknowledged);
}

TEST_F(AlertStopsTest, AnotherCallersAlertIsNotFound) {
  absl::StatusOr<alerts::v1::CancelAlertResponse> response = stops_.Cancel("payments", Request());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(stopped_.Find(kStoppedAlertId)->has_value());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertStopsTest, UnknownAlertGetsTheSameAnswerAsAnotherCallers) {
  absl::StatusOr<alerts::v1::CancelAlertResponse> unknown =
      stops_.Cancel("billing", Request("0190f5d2-3c4b-7a00-8000-000000000002"));
  absl::StatusOr<alerts::v1::CancelAlertResponse> not_yours = stops_.Cancel("payments", Request());
  EXPECT_EQ(unknown.status(), not_yours.status());
}

TEST_F(AlertStopsTest, MalformedAlertIdIsInvalidArgument) {
  absl::StatusOr<alerts::v1::CancelAlertResponse> response =
      stops_.Cancel("billing", Request("not-a-uuid"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("alert_id:"));
  ASSERT_EQ(observer_.refused.size(), 1u);
  EXPECT_EQ(observer_.refused[0],
            std::pair(StopReason::kCancelled, absl::StatusCode::kInvalidArgument));
}

TEST_F(AlertStopsTest, RedisDownIsUnavailableAndNothingIsPublished) {
  stopped_.FailWith(absl::UnavailableError("redis is unreachable"));
  EXPECT_EQ(stops_.Cancel("billing", Request()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertStopsTest, KafkaDownIsUnavailableAndARetryConverges) {
  publisher_.FailWith(absl::DeadlineExceededError("message timed out"));
  absl::StatusOr<alerts::v1::CancelAlertResponse> failed = stops_.Cancel("billing", Request());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*stopped_.Find(kStoppedAlertId), StopReason::kCancelled);

  publisher_.FailWith(absl::OkStatus());
  absl::StatusOr<alerts::v1::CancelAlertResponse> retried = stops_.Cancel("billing", Request());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AlertStopsTest, AcknowledgeStopsTheAlertAndRecordsAnAcknowledgedOutcome) {
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> response =
      stops_.Acknowledge("billing", Ack());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->already_acknowledged());
  EXPECT_EQ(*stopped_.Find(kStoppedAlertId), StopReason::kAcknowledged);
  const events::v1::DeliveryEvent event = OnlyPublished();
  ASSERT_TRUE(event.has_acknowledged());
  EXPECT_THAT(event.acknowledged().reason(), HasSubstr("acknowledged by the caller billing"));
  EXPECT_EQ(event.header().alert_id(), kStoppedAlertId);
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(observer_.acknowledged, std::vector<bool>{false});
}

TEST_F(AlertStopsTest, AnAlertTheRecipientAcknowledgedIsAlreadyAcknowledged) {
  ASSERT_TRUE(stopped_.Stop(kStoppedAlertId, StopReason::kAcknowledged, absl::Hours(1)).ok());
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> response =
      stops_.Acknowledge("billing", Ack());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(response->already_acknowledged());
}

TEST_F(AlertStopsTest, ACancelledAlertCannotBeAcknowledged) {
  ASSERT_TRUE(stops_.Cancel("billing", Request()).ok());
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> response =
      stops_.Acknowledge("billing", Ack());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("cancelled before"));
  EXPECT_EQ(*stopped_.Find(kStoppedAlertId), StopReason::kCancelled);
  EXPECT_EQ(publisher_.published().size(), 1u);  // the cancel's record only
  ASSERT_EQ(observer_.refused.size(), 1u);
  EXPECT_EQ(observer_.refused[0].first, StopReason::kAcknowledged);
}

TEST_F(AlertStopsTest, AnotherCallerCannotAcknowledge) {
  EXPECT_EQ(stops_.Acknowledge("payments", Ack()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(stopped_.Find(kStoppedAlertId)->has_value());
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertStopsTest, AnAcknowledgementKafkaLostIsRecordedByItsRetry) {
  publisher_.FailWith(absl::DeadlineExceededError("message timed out"));
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> failed =
      stops_.Acknowledge("billing", Ack());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("retry AcknowledgeAlert"));

  publisher_.FailWith(absl::OkStatus());
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> retried =
      stops_.Acknowledge("billing", Ack());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->already_acknowledged());
  EXPECT_TRUE(OnlyPublished().has_acknowledged());
}

constexpr char kChainId[] = "0190f5d2-3c4b-7a00-8000-0000000000c0";
constexpr char kSecondPageId[] = "0190f5d2-3c4b-7a00-8000-0000000000c2";

// Page `step` of the chain kChainId (whose id is its first page's), as ingress records its owner.
void ReserveChainPageOf(InMemoryIdempotencyStore& owners, const std::string& alert_id,
                        const std::string& key, uint32_t step) {
  ASSERT_TRUE(owners
                  .Reserve("billing", key,
                           {.alert_id = alert_id,
                            .channel = types::v1::CHANNEL_SMS,
                            .chain = {.escalation_id = kChainId, .step = step}},
                           absl::Hours(24))
                  .ok());
}

TEST_F(AlertStopsTest, AcknowledgingAPageOfAChainStopsTheChainAndRecordsWhichPage) {
  ASSERT_NO_FATAL_FAILURE(ReserveChainPageOf(owners_, kSecondPageId, "incident/p1", 2));
  ASSERT_TRUE(stops_.Acknowledge("billing", Ack(kSecondPageId)).ok());
  EXPECT_EQ(*stopped_.Find(kSecondPageId), StopReason::kAcknowledged);
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kAcknowledged);

  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 2u) << "the page's record, then the chain's";
  EXPECT_EQ(published[1].key, kChainId);
  events::v1::DeliveryEvent chain;
  ASSERT_TRUE(chain.ParseFromString(published[1].value));
  EXPECT_EQ(chain.header().alert_id(), kChainId);
  EXPECT_EQ(chain.acknowledged().by_alert_id(), kSecondPageId);
  EXPECT_EQ(chain.acknowledged().by_step(), 2u);
  EXPECT_THAT(chain.acknowledged().reason(), HasSubstr("by the caller billing through the API"));
}

TEST_F(AlertStopsTest, AcknowledgingTheChainsOwnIdRecordsItAsThePageThatAcknowledged) {
  ASSERT_NO_FATAL_FAILURE(ReserveChainPageOf(owners_, kChainId, "incident", 1));
  ASSERT_TRUE(stops_.Acknowledge("billing", Ack(kChainId)).ok());
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kAcknowledged);
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 2u) << "the page's record, then the chain's, as for any page";
  events::v1::DeliveryEvent chain;
  ASSERT_TRUE(chain.ParseFromString(published[1].value));
  EXPECT_EQ(chain.header().alert_id(), kChainId);
  EXPECT_EQ(chain.acknowledged().by_alert_id(), kChainId);
  EXPECT_EQ(chain.acknowledged().by_step(), 1u);
}

TEST_F(AlertStopsTest, TheChainIsStoppedEvenWhenNothingCanBePublished) {
  ASSERT_NO_FATAL_FAILURE(ReserveChainPageOf(owners_, kSecondPageId, "incident/p1", 2));
  publisher_.FailWith(absl::DeadlineExceededError("message timed out"));
  EXPECT_EQ(stops_.Acknowledge("billing", Ack(kSecondPageId)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(*stopped_.Find(kChainId), StopReason::kAcknowledged)
      << "the chain's later pages are not sent while Kafka is down";
}

}  // namespace
}  // namespace klaxon::ingress
