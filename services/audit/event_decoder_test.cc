#include "services/audit/event_decoder.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

void FillHeader(klaxon::events::v1::EventHeader& header) {
  header.set_alert_id(kAlertId);
  header.set_caller("billing");
  header.set_channel(klaxon::types::v1::CHANNEL_SMS);
  header.set_attempt(1);
  header.mutable_occurred_at()->set_seconds(1'700'000'000);
  header.mutable_occurred_at()->set_nanos(123'456'789);
}

klaxon::events::v1::AlertRequested ValidRequest() {
  klaxon::events::v1::AlertRequested request;
  FillHeader(*request.mutable_header());
  request.set_recipient("+442079460123");
  request.set_text("disk full on db-7");
  return request;
}

klaxon::events::v1::DeliveryEvent ValidDelivery(klaxon::events::v1::DeliveryOutcome::Kind kind) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_outcome()->set_kind(kind);
  delivery.mutable_outcome()->set_twilio_sid("SM123");
  delivery.mutable_outcome()->set_twilio_error_code(21211);
  delivery.mutable_outcome()->set_reason("invalid number");
  return delivery;
}

TEST(DecodeAlertRequestedTest, KeepsOnlyCountryCodeAndLastFourOfRecipient) {
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested(ValidRequest().SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, AlertEvent::Kind::kRequested);
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(event->alert_id, kAlertId);
  EXPECT_EQ(event->caller, "billing");
  EXPECT_EQ(event->recipient_country_code, "44");
  EXPECT_EQ(event->recipient_last4, "0123");
}

TEST(DecodeAlertRequestedTest, TruncatesOccurredAtToMicroseconds) {
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested(ValidRequest().SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->occurred_at, absl::FromUnixMicros(1'700'000'000'123'456));
}

TEST(DecodeAlertRequestedTest, GarbageIsInvalidArgument) {
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested("\xff\xff\xff");
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DecodeAlertRequestedTest, NonUuidAlertIdIsInvalidArgumentNamingTheField) {
  auto request = ValidRequest();
  request.mutable_header()->set_alert_id("42");
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested(request.SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("header.alert_id"));
}

TEST(DecodeAlertRequestedTest, AttemptZeroIsInvalidArgument) {
  auto request = ValidRequest();
  request.mutable_header()->set_attempt(0);
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested(request.SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("header.attempt"));
}

TEST(DecodeAlertRequestedTest, MalformedRecipientIsInvalidArgumentWithoutTheNumber) {
  auto request = ValidRequest();
  request.set_recipient("020 7946 0123");
  absl::StatusOr<AlertEvent> event = DecodeAlertRequested(request.SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), Not(HasSubstr("7946")));
}

TEST(DecodeDeliveryEventTest, AcceptedBecomesSent) {
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(
      ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED).SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, AlertEvent::Kind::kOutcome);
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_SENT);
  EXPECT_EQ(event->twilio_sid, "SM123");
}

TEST(DecodeDeliveryEventTest, RejectedBecomesFailedWithCodeAndReason) {
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(
      ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_REJECTED).SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(event->twilio_error_code, 21211);
  EXPECT_EQ(event->reason, "invalid number");
}

TEST(DecodeDeliveryEventTest, GaveUpBecomesFailed) {
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(
      ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_GAVE_UP).SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_FAILED);
}

TEST(DecodeDeliveryEventTest, UnspecifiedOutcomeIsInvalidArgument) {
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(
      ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_UNSPECIFIED).SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("outcome.kind"));
}

TEST(DecodeDeliveryEventTest, MissingOutcomeIsInvalidArgument) {
  auto delivery = ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
  delivery.clear_outcome();
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::audit
