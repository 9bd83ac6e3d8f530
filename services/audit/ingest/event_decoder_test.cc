#include "services/audit/ingest/event_decoder.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/transit/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit::event_decoder_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

transit::testing::TestTransit& Transit() {
  static transit::testing::TestTransit* transit = new transit::testing::TestTransit;
  return *transit;
}

// Seals recipient and text into `request` for its current alert id.
klaxon::events::v1::AlertRequested Sealed(klaxon::events::v1::AlertRequested request,
                                          std::string recipient, std::string text) {
  Transit().Seal(request, std::move(recipient), std::move(text));
  return request;
}

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
  return Sealed(std::move(request), "+442079460123", "disk full on db-7");
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
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested(ValidRequest().SerializeAsString(), Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind, AlertEvent::Kind::kRequested);
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(event->alert_id, kAlertId);
  EXPECT_EQ(event->caller, "billing");
  EXPECT_EQ(event->recipient_country_code, "44");
  EXPECT_EQ(event->recipient_last4, "0123");
}

TEST(DecodeAlertRequestedTest, HandsOverRecipientAndTextForSealing) {
  auto message = Sealed(ValidRequest(), "+442079460123", "Server 7 is on fire");
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->recipient, "+442079460123");
  EXPECT_EQ(request->text, "Server 7 is on fire");
}

TEST(DecodeAlertRequestedTest, KeyIsRequestedAlertAndAttempt) {
  auto message = ValidRequest();
  message.mutable_header()->set_attempt(3);
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->event.event_key, absl::StrCat("requested:", kAlertId, ":3"));
  EXPECT_EQ(request->event.log_kind, "requested");
  EXPECT_FALSE(request->event.counts_retry);
}

TEST(DecodeAlertRequestedTest, TruncatesOccurredAtToMicroseconds) {
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested(ValidRequest().SerializeAsString(), Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->occurred_at, absl::FromUnixMicros(1'700'000'000'123'456));
}

TEST(DecodeAlertRequestedTest, ARequestWithoutSealedFieldsIsInvalidArgument) {
  auto request = ValidRequest();
  request.clear_personal();
  EXPECT_EQ(DecodeAlertRequested(request.SerializeAsString(), Transit().cipher()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DecodeAlertRequestedTest, ARequestSealedUnderANewerKeyVersionIsRetryable) {
  crypto::LocalKeyring newer =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(2, {1, 2}));
  auto request = ValidRequest();
  ASSERT_TRUE(
      transit::TransitCipher(newer).SealAlert({.recipient = "+442079460123"}, request).ok());
  EXPECT_EQ(DecodeAlertRequested(request.SerializeAsString(), Transit().cipher()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(DecodeAlertRequestedTest, GarbageIsInvalidArgument) {
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested("\xff\xff\xff", Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DecodeAlertRequestedTest, NonUuidAlertIdIsInvalidArgumentNamingTheField) {
  auto request = ValidRequest();
  request.mutable_header()->set_alert_id("42");
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested(request.SerializeAsString(), Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("header.alert_id"));
}

TEST(DecodeAlertRequestedTest, AttemptZeroIsInvalidArgument) {
  auto request = ValidRequest();
  request.mutable_header()->set_attempt(0);
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested(request.SerializeAsString(), Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("header.attempt"));
}

TEST(DecodeAlertRequestedTest, MalformedRecipientIsInvalidArgumentWithoutTheNumber) {
  auto request = Sealed(ValidRequest(), "020 7946 0123", "x");
  absl::StatusOr<DecodedRequest> request_event =
      DecodeAlertRequested(request.SerializeAsString(), Transit().cipher());
  const absl::StatusOr<AlertEvent> event = request_event.ok()
                                               ? absl::StatusOr<AlertEvent>(request_event->event)
                                               : request_event.status();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), Not(HasSubstr("7946")));
}

// The id of the escalation chain the tests' pages belong to: its first page's alert id.
constexpr char kChainId[] = "0190f1c4-7a3e-7b12-9c4d-0000000000c1";

TEST(DecodeAlertRequestedTest, APageKeepsItsChainAndStep) {
  auto message = ValidRequest();
  message.set_escalation_id(kChainId);
  message.set_escalation_step(2);
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->event.escalation_id, kChainId);
  EXPECT_EQ(request->event.escalation_step, 2u);
}

TEST(DecodeAlertRequestedTest, AnAlertOfNoChainHasNoEscalation) {
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(ValidRequest().SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->event.escalation_id, "");
  EXPECT_EQ(request->event.escalation_step, 0u);
}

TEST(DecodeAlertRequestedTest, AnAlertRenderedFromATemplateKeepsItsNameLocaleAndVersion) {
  auto message = ValidRequest();
  message.set_template_name("disk-full");
  message.set_template_locale("de-DE");
  message.set_template_version(3);
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->event.template_name, "disk-full");
  EXPECT_EQ(request->event.template_locale, "de-DE");
  EXPECT_EQ(request->event.template_version, 3u);
}

TEST(DecodeAlertRequestedTest, AnAlertWithATextOfItsOwnHasNoTemplate) {
  absl::StatusOr<DecodedRequest> request =
      DecodeAlertRequested(ValidRequest().SerializeAsString(), Transit().cipher());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->event.template_name, "");
  EXPECT_EQ(request->event.template_locale, "");
  EXPECT_EQ(request->event.template_version, 0u);
}

TEST(DecodeAlertRequestedTest, NonUuidEscalationIdIsInvalidArgumentNamingTheField) {
  auto message = ValidRequest();
  message.set_escalation_id("chain-1");
  message.set_escalation_step(1);
  absl::Status status =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("escalation_id"));
}

TEST(DecodeAlertRequestedTest, EscalationIdWithoutAStepIsInvalidArgument) {
  auto message = ValidRequest();
  message.set_escalation_id(kChainId);
  absl::Status status =
      DecodeAlertRequested(message.SerializeAsString(), Transit().cipher()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("escalation_id's step"));
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

AlertEvent DecodeKind(klaxon::events::v1::DeliveryOutcome::Kind kind,
                      std::string_view sid = "SM123") {
  auto delivery = ValidDelivery(kind);
  delivery.mutable_outcome()->set_twilio_sid(std::string(sid));
  delivery.mutable_outcome()->mutable_retry_at()->set_seconds(1'700'000'090);
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  EXPECT_TRUE(event.ok()) << event.status();
  return event.ok() ? *std::move(event) : AlertEvent{};
}

using klaxon::events::v1::DeliveryOutcome;

TEST(DecodeDeliveryEventTest, FinalKindsMoveAttemptAndAlertAlike) {
  const std::vector<std::pair<DeliveryOutcome::Kind, AlertStatus>> finals = {
      {DeliveryOutcome::KIND_DEAD_LETTERED, klaxon::types::v1::ALERT_STATUS_FAILED},
      {DeliveryOutcome::KIND_SUPPRESSED, klaxon::types::v1::ALERT_STATUS_SUPPRESSED},
      {DeliveryOutcome::KIND_CANCELLED, klaxon::types::v1::ALERT_STATUS_CANCELLED},
      {DeliveryOutcome::KIND_ACKNOWLEDGED, klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED},
      {DeliveryOutcome::KIND_UNREACHED, klaxon::types::v1::ALERT_STATUS_UNDELIVERED},
      {DeliveryOutcome::KIND_UNROUTED, klaxon::types::v1::ALERT_STATUS_FAILED},
  };
  for (const auto& [kind, status] : finals) {
    const AlertEvent event = DecodeKind(kind);
    EXPECT_EQ(event.status, status) << kind;
    EXPECT_FALSE(event.alert_status.has_value()) << kind;
    EXPECT_EQ(event.reason, "invalid number") << kind;
  }
}

TEST(DecodeDeliveryEventTest, RetryFailsTheAttemptAndLetsTheAlertWaitUntilRetryAt) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_RETRY_SCHEDULED, "");
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(event.reason, "invalid number");
  EXPECT_EQ(event.alert_status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_EQ(event.alert_reason, "invalid number; retrying at 2023-11-14T22:14:50Z");
}

TEST(DecodeDeliveryEventTest, RetryOfAnAttemptTwilioTookLeavesItUndelivered) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_RETRY_SCHEDULED, "CA1");
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
}

TEST(DecodeDeliveryEventTest, DeferredWaitsWithTheLimitsReason) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_DEFERRED, "");
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_FALSE(event.alert_status.has_value());
  EXPECT_EQ(event.reason, "invalid number; next try at 2023-11-14T22:14:50Z");
}

TEST(DecodeDeliveryEventTest, ScheduledWaitsUntilTheCallersSendAt) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_SCHEDULED, "");
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_FALSE(event.alert_status.has_value());
  EXPECT_EQ(event.reason, "invalid number; not sent before 2023-11-14T22:14:50Z");
  EXPECT_EQ(event.log_kind, "scheduled");
}

TEST(DecodeDeliveryEventTest, FallbackToSmsLeavesTheAlertAlone) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_FALLBACK_TO_SMS);
  EXPECT_EQ(event.alert_status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_THAT(event.reason, HasSubstr("the text follows by SMS"));
}

TEST(DecodeDeliveryEventTest, CancelRequestedMovesNoAttemptAndFinalizesNothing) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_cancel_requested()->set_reason("cancelled by the caller");
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_EQ(event->alert_status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_THAT(*event->alert_reason, HasSubstr("cancelled"));
}

TEST(DecodeDeliveryEventTest, AnAcknowledgementOfTheAlertMovesNoAttempt) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_acknowledged()->set_reason("acknowledged by the caller billing through the API");
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_EQ(event->alert_status, klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(*event->alert_reason, "acknowledged by the caller billing through the API");
  EXPECT_EQ(event->event_key,
            absl::StrCat("acknowledged:", kAlertId, ":", absl::ToUnixMicros(event->occurred_at)));
  EXPECT_EQ(event->log_kind, "acknowledged");
}

// The chain's record of an acknowledgement (ADR 0029): about the chain, naming its page.
klaxon::events::v1::DeliveryEvent ChainAcknowledged(const std::string& by_alert_id,
                                                    uint32_t by_step) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_header()->set_alert_id(kChainId);
  delivery.mutable_acknowledged()->set_reason("the escalation was acknowledged at step 2");
  delivery.mutable_acknowledged()->set_by_alert_id(by_alert_id);
  delivery.mutable_acknowledged()->set_by_step(by_step);
  return delivery;
}

TEST(DecodeDeliveryEventTest, AChainsAcknowledgementNamesThePageThatStoppedIt) {
  absl::StatusOr<AlertEvent> event =
      DecodeDeliveryEvent(ChainAcknowledged(kAlertId, 2).SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->alert_id, kChainId);
  EXPECT_EQ(event->alert_status, klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_EQ(event->acknowledged_by, kAlertId);
  EXPECT_EQ(event->acknowledged_step, 2u);
  EXPECT_EQ(event->log_kind, "acknowledged");
}

TEST(DecodeDeliveryEventTest, AnAcknowledgementOfNoChainNamesNoPage) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_acknowledged()->set_reason("acknowledged by the caller billing through the API");
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->acknowledged_by, "");
  EXPECT_EQ(event->acknowledged_step, 0u);
}

// Acknowledging a chain's first page stops the chain, whose id is that page's: the page's own
// record and the chain's, made at one instant, are two lines of the trail, not one.
TEST(DecodeDeliveryEventTest, AChainsRecordIsKeyedApartFromItsFirstPagesOwnAcknowledgement) {
  klaxon::events::v1::DeliveryEvent page;
  FillHeader(*page.mutable_header());
  page.mutable_header()->set_alert_id(kChainId);
  page.mutable_acknowledged()->set_reason("acknowledged by the caller billing through the API");
  absl::StatusOr<AlertEvent> own = DecodeDeliveryEvent(page.SerializeAsString());
  absl::StatusOr<AlertEvent> chain =
      DecodeDeliveryEvent(ChainAcknowledged(kChainId, 1).SerializeAsString());
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(own->occurred_at, chain->occurred_at);
  EXPECT_EQ(chain->event_key,
            absl::StrCat("acknowledged:", kChainId, ":", absl::ToUnixMicros(chain->occurred_at),
                         ":by:", kChainId));
  EXPECT_NE(chain->event_key, own->event_key);
}

TEST(DecodeDeliveryEventTest, NonUuidAcknowledgingPageIsInvalidArgumentNamingTheField) {
  absl::Status status =
      DecodeDeliveryEvent(ChainAcknowledged("page-2", 2).SerializeAsString()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("acknowledged.by_alert_id"));
}

TEST(DecodeDeliveryEventTest, AcknowledgingPageWithoutAStepIsInvalidArgument) {
  absl::Status status =
      DecodeDeliveryEvent(ChainAcknowledged(kAlertId, 0).SerializeAsString()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("acknowledged.by_alert_id's step"));
}

TEST(DecodeDeliveryEventTest, UnknownOutcomeKindIsInvalidArgument) {
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(
      ValidDelivery(static_cast<DeliveryOutcome::Kind>(99)).SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(event.status().message(), HasSubstr("outcome.kind"));
}

TEST(DecodeDeliveryEventTest, MissingOutcomeIsInvalidArgument) {
  auto delivery = ValidDelivery(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
  delivery.clear_outcome();
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DecodeDeliveryEventTest, OutcomeKeyIsAlertAttemptKindAndOccurredAtInMicroseconds) {
  const AlertEvent event = DecodeKind(DeliveryOutcome::KIND_ACCEPTED);
  EXPECT_EQ(event.event_key, absl::StrCat("outcome:", kAlertId, ":", event.attempt,
                                          ":accepted:", absl::ToUnixMicros(event.occurred_at)));
  EXPECT_EQ(event.log_kind, "accepted");
}

TEST(DecodeDeliveryEventTest, OnlyRetryScheduledAndDeferredCountAsRetries) {
  for (int kind = DeliveryOutcome::KIND_ACCEPTED; kind <= DeliveryOutcome::Kind_MAX; ++kind) {
    const auto outcome_kind = static_cast<DeliveryOutcome::Kind>(kind);
    EXPECT_EQ(DecodeKind(outcome_kind).counts_retry,
              outcome_kind == DeliveryOutcome::KIND_RETRY_SCHEDULED ||
                  outcome_kind == DeliveryOutcome::KIND_DEFERRED)
        << DeliveryOutcome::Kind_Name(outcome_kind);
  }
}

TEST(DecodeDeliveryEventTest, CancelKeyIsTheAlertsOnly) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_cancel_requested();
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->event_key, absl::StrCat("cancel:", kAlertId));
  EXPECT_EQ(event->log_kind, "cancel_requested");
}

TEST(DecodeDeliveryEventTest, AVerificationCheckMovesNothingAndTellsTheTrailItsResult) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  klaxon::events::v1::VerificationChecked& checked = *delivery.mutable_verification_checked();
  checked.set_verification_id("0190a1b2-0000-7000-8000-000000000001");
  checked.set_result(klaxon::verify::v1::VERIFICATION_STATUS_PENDING);
  checked.set_checks_left(3);
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_FALSE(event->alert_status.has_value());
  EXPECT_EQ(event->log_kind, "verification_checked");
  EXPECT_EQ(event->reason,
            "verification 0190a1b2-0000-7000-8000-000000000001 checked: wrong code, 3 checks left");
  EXPECT_EQ(event->event_key, absl::StrCat("verification_checked:", kAlertId,
                                           ":0190a1b2-0000-7000-8000-000000000001:3:2:",
                                           absl::ToUnixMicros(event->occurred_at)));

  checked.set_result(klaxon::verify::v1::VERIFICATION_STATUS_APPROVED);
  EXPECT_THAT(DecodeDeliveryEvent(delivery.SerializeAsString())->reason, HasSubstr("approved"));
}

TEST(DecodeDeliveryEventTest, AVerificationCancelMovesNothingAndTellsTheTrailOnce) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_verification_cancelled()->set_verification_id(
      "0190a1b2-0000-7000-8000-000000000001");
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(delivery.SerializeAsString());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_FALSE(event->alert_status.has_value());
  EXPECT_EQ(event->log_kind, "verification_cancelled");
  EXPECT_EQ(event->reason,
            "verification 0190a1b2-0000-7000-8000-000000000001 cancelled by its caller");
  EXPECT_EQ(event->event_key, absl::StrCat("verification_cancelled:", kAlertId,
                                           ":0190a1b2-0000-7000-8000-000000000001"));
}

const log::PhoneRedactor& Redactor() {
  static const log::PhoneRedactor redactor =
      log::PhoneRedactor::Create("event-decoder-test-key").value();
  return redactor;
}

// A status callback as ingress publishes it: the alert and attempt from the callback URL, no
// caller, occurred_at when ingress received it.
klaxon::events::v1::TwilioEvent Callback(std::string_view alert_id = kAlertId) {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->set_alert_id(std::string(alert_id));
  event.mutable_header()->set_attempt(2);
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'100);
  event.set_dedupe_key("token:abc");
  return event;
}

klaxon::events::v1::TwilioEvent MessageStatus(std::string status, int32_t error_code = 0) {
  klaxon::events::v1::TwilioEvent event = Callback();
  auto& update = *event.mutable_message_status();
  update.set_message_sid("SM0123456789abcdef0123456789abcdef");
  update.set_account_sid("AC00000000000000000000000000000000");
  update.set_message_status(std::move(status));
  update.set_error_code(error_code);
  return event;
}

klaxon::events::v1::TwilioEvent CallStatus(std::string status) {
  klaxon::events::v1::TwilioEvent event = Callback();
  auto& update = *event.mutable_call_status();
  update.set_call_sid("CA0123456789abcdef0123456789abcdef");
  update.set_call_status(std::move(status));
  return event;
}

TwilioEventReading Read(const klaxon::events::v1::TwilioEvent& event) {
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_TRUE(reading.ok()) << reading.status();
  return reading.ok() ? *std::move(reading) : TwilioEventReading{};
}

// A worker's read of what Twilio charged: the status check's header, with caller and channel.
klaxon::events::v1::TwilioEvent Charge() {
  klaxon::events::v1::TwilioEvent event = Callback();
  event.mutable_header()->set_caller("billing");
  event.mutable_header()->set_channel(klaxon::types::v1::CHANNEL_SMS);
  event.set_dedupe_key("charge:SM0123456789abcdef0123456789abcdef");
  auto& charge = *event.mutable_charge();
  charge.set_sid("SM0123456789abcdef0123456789abcdef");
  charge.set_account("main");
  charge.set_amount_micros(15'800);
  charge.set_currency("USD");
  charge.set_segments(2);
  return event;
}

TEST(DecodeTwilioEventTest, AChargeIsRecordedOnItsAttemptAndMovesNoStatus) {
  const TwilioEventReading reading = Read(Charge());
  EXPECT_EQ(reading.kind, "charge");
  EXPECT_EQ(reading.event_key, "twilio:charge:SM0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(reading.outcome.has_value());
  const AlertEvent& event = *reading.outcome;
  EXPECT_EQ(event.alert_id, kAlertId);
  EXPECT_EQ(event.attempt, 2u);
  EXPECT_EQ(event.caller, "billing");
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_FALSE(event.alert_status.has_value());
  ASSERT_TRUE(event.charge.has_value());
  EXPECT_EQ(*event.charge, (ChargeRecord{.micros = 15'800,
                                         .currency = "USD",
                                         .segments = 2,
                                         .duration_seconds = 0,
                                         .twilio_account = "main"}));
  EXPECT_EQ(event.reason, "Twilio charged 0.0158 USD for 2 segments on account main");
  EXPECT_EQ(event.log_kind, "charge");
}

TEST(DecodeTwilioEventTest, AChargeWithoutItsCallerOrCurrencyIsInvalidArgumentNamingIt) {
  klaxon::events::v1::TwilioEvent no_caller = Charge();
  no_caller.mutable_header()->clear_caller();
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(no_caller.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("header.caller"));
  klaxon::events::v1::TwilioEvent no_currency = Charge();
  no_currency.mutable_charge()->clear_currency();
  reading = DecodeTwilioEvent(no_currency.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("charge.currency"));
}

TEST(DecodeTwilioEventTest, DeliveredMessageIsDeliveredOutcomeOfTheNamedAttempt) {
  const TwilioEventReading reading = Read(MessageStatus("delivered"));
  EXPECT_EQ(reading.kind, "message_status");
  EXPECT_EQ(reading.twilio_status, "delivered");
  ASSERT_TRUE(reading.outcome.has_value());
  const AlertEvent& event = *reading.outcome;
  EXPECT_EQ(event.kind, AlertEvent::Kind::kOutcome);
  EXPECT_EQ(event.alert_id, kAlertId);
  EXPECT_EQ(event.caller, "");
  EXPECT_EQ(event.channel, klaxon::types::v1::CHANNEL_SMS);
  EXPECT_EQ(event.attempt, 2u);
  EXPECT_EQ(event.occurred_at, absl::FromUnixSeconds(1'700'000'100));
  EXPECT_EQ(event.status, klaxon::types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(event.twilio_sid, "SM0123456789abcdef0123456789abcdef");
  EXPECT_EQ(event.twilio_error_code, 0);
  EXPECT_EQ(reading.ignored, "");
}

TEST(DecodeTwilioEventTest, UndeliveredMessageCarriesErrorCodeAndReasonNamingIt) {
  const TwilioEventReading reading = Read(MessageStatus("undelivered", 30003));
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(reading.outcome->twilio_error_code, 30003);
  EXPECT_EQ(reading.outcome->reason,
            "Twilio reported undelivered, error 30003: the destination handset is unreachable");
}

TEST(DecodeTwilioEventTest, FailedMessageIsFailedWithErrorCode) {
  const TwilioEventReading reading = Read(MessageStatus("failed", 30008));
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(reading.outcome->twilio_error_code, 30008);
  EXPECT_THAT(reading.outcome->reason, HasSubstr("Twilio reported failed, error 30008"));
}

TEST(DecodeTwilioEventTest, FailureWithoutErrorCodeStillNamesTheStatus) {
  const TwilioEventReading reading = Read(MessageStatus("undelivered"));
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->reason, "Twilio reported undelivered");
}

TEST(DecodeTwilioEventTest, MessageStatusesBeforeDeliveryAreSentAtMost) {
  for (const char* status : {"queued", "accepted", "scheduled", "sending", "sent"}) {
    const TwilioEventReading reading = Read(MessageStatus(status));
    ASSERT_TRUE(reading.outcome.has_value()) << status;
    EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_SENT) << status;
  }
}

TEST(DecodeTwilioEventTest, CompletedCallIsDelivered) {
  klaxon::events::v1::TwilioEvent event = CallStatus("completed");
  event.mutable_call_status()->set_call_duration_seconds(5);
  event.mutable_call_status()->set_answered_by("human");
  const TwilioEventReading reading = Read(event);
  EXPECT_EQ(reading.kind, "call_status");
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->channel, klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(reading.outcome->twilio_sid, "CA0123456789abcdef0123456789abcdef");
  EXPECT_EQ(reading.outcome->twilio_error_code, 0);
  EXPECT_EQ(reading.outcome->reason, "");
}

TEST(DecodeTwilioEventTest, HumanAnsweredCallDeliversTheAlert) {
  klaxon::events::v1::TwilioEvent event = CallStatus("completed");
  event.mutable_call_status()->set_answered_by("human");
  const TwilioEventReading reading = Read(event);
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_FALSE(reading.outcome->alert_status.has_value());
}

TEST(DecodeTwilioEventTest, MachineAnsweredCallIsAnUndeliveredAttemptOnly) {
  klaxon::events::v1::TwilioEvent event = CallStatus("completed");
  event.mutable_call_status()->set_answered_by("machine_start");
  const TwilioEventReading reading = Read(event);
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(reading.outcome->alert_status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
  EXPECT_THAT(reading.outcome->reason, HasSubstr("machine"));
}

TEST(DecodeTwilioEventTest, UnansweredOrFailedCallMovesOnlyItsAttempt) {
  for (const char* status : {"ringing", "busy", "no-answer", "failed"}) {
    const TwilioEventReading reading = Read(CallStatus(status));
    ASSERT_TRUE(reading.outcome.has_value()) << status;
    EXPECT_EQ(reading.outcome->alert_status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED) << status;
  }
}

TEST(DecodeTwilioEventTest, MessageCallbackMovesTheAlertToo) {
  const TwilioEventReading reading = Read(MessageStatus("delivered"));
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_FALSE(reading.outcome->alert_status.has_value());
}

TEST(DecodeTwilioEventTest, UnansweredCallIsUndeliveredNamingTheCallStatus) {
  for (const char* status : {"busy", "no-answer", "canceled"}) {
    const TwilioEventReading reading = Read(CallStatus(status));
    ASSERT_TRUE(reading.outcome.has_value()) << status;
    EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED) << status;
    EXPECT_EQ(reading.outcome->reason, std::string("Twilio reported the call ") + status);
  }
}

TEST(DecodeTwilioEventTest, FailedCallIsFailed) {
  const TwilioEventReading reading = Read(CallStatus("failed"));
  ASSERT_TRUE(reading.outcome.has_value());
  EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(reading.outcome->reason, "Twilio reported the call failed");
}

TEST(DecodeTwilioEventTest, CallInProgressIsSentAtMost) {
  for (const char* status : {"queued", "initiated", "ringing", "in-progress"}) {
    const TwilioEventReading reading = Read(CallStatus(status));
    ASSERT_TRUE(reading.outcome.has_value()) << status;
    EXPECT_EQ(reading.outcome->status, klaxon::types::v1::ALERT_STATUS_SENT) << status;
  }
}

TEST(DecodeTwilioEventTest, StatusCallbackWithoutAlertIdIsIgnored) {
  klaxon::events::v1::TwilioEvent event = MessageStatus("delivered");
  event.mutable_header()->clear_alert_id();
  event.mutable_header()->clear_attempt();
  const TwilioEventReading reading = Read(event);
  EXPECT_FALSE(reading.outcome.has_value());
  EXPECT_EQ(reading.ignored, "no_alert_id");
  EXPECT_EQ(reading.sid, "SM0123456789abcdef0123456789abcdef");
}

TEST(DecodeTwilioEventTest, UnknownStatusWordIsIgnored) {
  const TwilioEventReading reading = Read(MessageStatus("partially_delivered"));
  EXPECT_FALSE(reading.outcome.has_value());
  EXPECT_EQ(reading.ignored, "unknown_status");
  EXPECT_EQ(reading.twilio_status, "partially_delivered");
}

TEST(DecodeTwilioEventTest, InboundMessagesAndKeyPressesAreNotStatusCallbacks) {
  klaxon::events::v1::TwilioEvent inbound;
  inbound.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'300);
  inbound.mutable_inbound_message()->set_message_sid("SMin");
  Transit().Seal(*inbound.mutable_inbound_message(), "+14155550100", "hi");
  klaxon::events::v1::TwilioEvent key_press = Callback();
  key_press.mutable_key_press()->set_call_sid("CAkey");
  key_press.mutable_key_press()->set_digits("1");
  const std::vector<std::pair<klaxon::events::v1::TwilioEvent, std::string_view>> cases = {
      {inbound, "inbound_message"}, {key_press, "key_press"}};
  for (const auto& [event, kind] : cases) {
    const TwilioEventReading reading = Read(event);
    EXPECT_EQ(reading.kind, kind);
    EXPECT_FALSE(reading.outcome.has_value()) << kind;
    EXPECT_FALSE(reading.consent.has_value()) << kind;
    EXPECT_EQ(reading.ignored, "not_a_status_callback") << kind;
  }
}

TEST(DecodeTwilioEventTest, KeyIsIngressDedupeKeyForEveryKind) {
  const TwilioEventReading reading = Read(MessageStatus("delivered"));
  EXPECT_EQ(reading.event_key, "twilio:token:abc");
  EXPECT_EQ(reading.outcome->event_key, "twilio:token:abc");
  EXPECT_EQ(reading.outcome->log_kind, "message_status");
  EXPECT_EQ(reading.occurred_at, absl::FromUnixSeconds(1'700'000'100));
}

TEST(DecodeTwilioEventTest, KeyWithoutDedupeKeyNamesKindSidStatusAndTime) {
  klaxon::events::v1::TwilioEvent event = MessageStatus("partially_delivered");
  event.clear_dedupe_key();
  EXPECT_EQ(Read(event).event_key,
            "twilio:message_status:SM0123456789abcdef0123456789abcdef:partially_delivered:"
            "1700000100000000");
}

TEST(DecodeTwilioEventTest, InboundMessageHandsOverSenderAndBodyForSealing) {
  klaxon::events::v1::TwilioEvent inbound;
  inbound.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'300);
  inbound.set_dedupe_key("sid:SMin:received:0");
  inbound.mutable_inbound_message()->set_message_sid("SMin");
  Transit().Seal(*inbound.mutable_inbound_message(), "+14155550100", "on my way");
  const TwilioEventReading reading = Read(inbound);
  EXPECT_EQ(reading.from, "+14155550100");
  EXPECT_EQ(reading.body, "on my way");
  EXPECT_EQ(reading.event_key, "twilio:sid:SMin:received:0");
  EXPECT_TRUE(reading.alert_id.empty());
}

TEST(DecodeTwilioEventTest, EventWithoutOccurredAtIsInvalidArgument) {
  klaxon::events::v1::TwilioEvent event = MessageStatus("delivered");
  event.mutable_header()->clear_occurred_at();
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("header.occurred_at"));
}

// An opt-out or opt-in as ingress publishes it: no alert, occurred_at when ingress received it.
klaxon::events::v1::TwilioEvent Keyword(bool opt_out, std::string keyword) {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'200);
  event.mutable_header()->mutable_occurred_at()->set_nanos(123'456'789);
  auto& message = opt_out ? *event.mutable_opt_out() : *event.mutable_opt_in();
  message.set_message_sid("SMkeyword");
  message.set_to("+15005550006");
  message.set_keyword(std::move(keyword));
  Transit().Seal(message, "+14155550100");
  return event;
}

TEST(DecodeTwilioEventTest, OptOutIsTheRecipientsConsentWithdrawnUnderItsToken) {
  const TwilioEventReading reading = Read(Keyword(/*opt_out=*/true, "STOP"));
  EXPECT_EQ(reading.kind, "opt_out");
  EXPECT_EQ(reading.sid, "SMkeyword");
  EXPECT_FALSE(reading.outcome.has_value());
  EXPECT_EQ(reading.ignored, "");
  ASSERT_TRUE(reading.consent.has_value());
  EXPECT_EQ(*reading.consent,
            (ConsentChange{.recipient_token = Redactor().Token("+14155550100"),
                           .country_code = "1",
                           .last4 = "0100",
                           .opted_out = true,
                           .keyword = "STOP",
                           .changed_at = absl::FromUnixMicros(1'700'000'200'123'456)}));
}

TEST(DecodeTwilioEventTest, OptInIsTheRecipientsConsentGiven) {
  const TwilioEventReading reading = Read(Keyword(/*opt_out=*/false, "START"));
  EXPECT_EQ(reading.kind, "opt_in");
  ASSERT_TRUE(reading.consent.has_value());
  EXPECT_FALSE(reading.consent->opted_out);
  EXPECT_EQ(reading.consent->keyword, "START");
  EXPECT_EQ(reading.consent->recipient_token, Redactor().Token("+14155550100"));
}

TEST(DecodeTwilioEventTest, OptOutFromANonE164NumberIsInvalidArgumentNamingTheField) {
  klaxon::events::v1::TwilioEvent event = Keyword(/*opt_out=*/true, "STOP");
  Transit().Seal(*event.mutable_opt_out(), "4155550100");
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("opt_out.from"));
  EXPECT_THAT(reading.status().message(), Not(HasSubstr("4155550100")));
}

TEST(DecodeTwilioEventTest, OptInWithoutOccurredAtIsInvalidArgument) {
  klaxon::events::v1::TwilioEvent event = Keyword(/*opt_out=*/false, "START");
  event.mutable_header()->clear_occurred_at();
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("header.occurred_at"));
}

TEST(DecodeTwilioEventTest, MissingBodyIsInvalidArgument) {
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(Callback().SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("body"));
}

TEST(DecodeTwilioEventTest, GarbageIsInvalidArgument) {
  EXPECT_EQ(DecodeTwilioEvent("\xff\xff\xff", Redactor(), Transit().cipher()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DecodeTwilioEventTest, MalformedAlertIdIsInvalidArgumentNamingTheField) {
  klaxon::events::v1::TwilioEvent event = MessageStatus("delivered");
  event.mutable_header()->set_alert_id("not-a-uuid");
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("header.alert_id"));
}

TEST(DecodeTwilioEventTest, AttemptZeroIsInvalidArgument) {
  klaxon::events::v1::TwilioEvent event = MessageStatus("delivered");
  event.mutable_header()->set_attempt(0);
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(event.SerializeAsString(), Redactor(), Transit().cipher());
  EXPECT_EQ(reading.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reading.status().message(), HasSubstr("header.attempt"));
}

}  // namespace
}  // namespace klaxon::audit::event_decoder_test
