#include "services/audit/ingest/audit_event_handler.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/messaging/testing/handle_and_wait.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/audit/testing/fake_alert_store.h"

namespace klaxon::audit::audit_event_handler_test {
namespace {

using messaging::testing::HandleAndWait;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

void FillHeader(klaxon::events::v1::EventHeader& header) {
  header.set_alert_id(kAlertId);
  header.set_caller("billing");
  header.set_channel(klaxon::types::v1::CHANNEL_SMS);
  header.set_attempt(1);
  header.mutable_occurred_at()->set_seconds(1'700'000'000);
}

constexpr char kText[] = "db-7 disk full";

// The transit keyring ingress and the workers seal under, shared by the helpers and the handler.
transit::testing::TestTransit& Transit() {
  static transit::testing::TestTransit* transit = new transit::testing::TestTransit;
  return *transit;
}

std::string RequestValue(uint32_t attempt = 1) {
  klaxon::events::v1::AlertRequested request;
  FillHeader(*request.mutable_header());
  request.mutable_header()->set_attempt(attempt);
  Transit().Seal(request, "+14155550100", kText);
  return request.SerializeAsString();
}

std::string OutcomeValue(klaxon::events::v1::DeliveryOutcome::Kind kind, int64_t seconds) {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'000 + seconds);
  delivery.mutable_outcome()->set_kind(kind);
  delivery.mutable_outcome()->mutable_retry_at()->set_seconds(1'700'000'100);
  return delivery.SerializeAsString();
}

std::string InboundValue() {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'010);
  event.set_dedupe_key("sid:SMin:received:0");
  auto& inbound = *event.mutable_inbound_message();
  inbound.set_message_sid("SMin");
  Transit().Seal(inbound, "+14155550100", "call me back");
  return event.SerializeAsString();
}

// A message status callback as ingress publishes it: no caller, the attempt from the URL.
std::string MessageStatusValue(const std::string& status, int32_t error_code,
                               const std::string& alert_id = kAlertId) {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->set_alert_id(alert_id);
  if (!alert_id.empty()) event.mutable_header()->set_attempt(1);
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'005);
  auto& update = *event.mutable_message_status();
  update.set_message_sid("SM1");
  update.set_message_status(status);
  update.set_error_code(error_code);
  return event.SerializeAsString();
}

constexpr char kRecipient[] = "+14155550100";

// An opt-out (STOP) or opt-in (START) as ingress publishes it, received `seconds` after 1.7e9.
std::string KeywordValue(bool opt_out, int64_t seconds) {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'000 + seconds);
  auto& message = opt_out ? *event.mutable_opt_out() : *event.mutable_opt_in();
  message.set_message_sid("SMkeyword");
  message.set_keyword(opt_out ? "STOP" : "START");
  Transit().Seal(message, kRecipient);
  return event.SerializeAsString();
}

std::string AcceptedValue() {
  klaxon::events::v1::DeliveryEvent delivery;
  FillHeader(*delivery.mutable_header());
  delivery.mutable_outcome()->set_kind(klaxon::events::v1::DeliveryOutcome::KIND_ACCEPTED);
  delivery.mutable_outcome()->set_twilio_sid("SM1");
  return delivery.SerializeAsString();
}

class AuditEventHandlerTest : public ::testing::Test {
 protected:
  messaging::InboundMessage Message(const std::string& topic, int64_t offset, std::string value) {
    return {.topic = topic,
            .partition = 3,
            .offset = offset,
            .key = kAlertId,
            .value = std::move(value)};
  }

  double Consumed(const std::string& topic, const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_events_consumed_total") continue;
      for (const auto& metric : family.metric) {
        bool topic_matches = false;
        bool result_matches = false;
        for (const auto& label : metric.label) {
          topic_matches |= label.name == "topic" && label.value == topic;
          result_matches |= label.name == "result" && label.value == result;
        }
        if (topic_matches && result_matches) return metric.counter.value;
      }
    }
    return 0;
  }

  double StatusReached(const std::string& status) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_alert_status_total") continue;
      for (const auto& metric : family.metric) {
        bool channel_matches = false;
        bool status_matches = false;
        for (const auto& label : metric.label) {
          channel_matches |= label.name == "channel" && label.value == "sms";
          status_matches |= label.name == "status" && label.value == status;
        }
        if (channel_matches && status_matches) return metric.counter.value;
      }
    }
    return 0;
  }

  double TwilioEvents(const std::string& kind, const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_twilio_events_total") continue;
      for (const auto& metric : family.metric) {
        bool kind_matches = false;
        bool result_matches = false;
        for (const auto& label : metric.label) {
          kind_matches |= label.name == "kind" && label.value == kind;
          result_matches |= label.name == "result" && label.value == result;
        }
        if (kind_matches && result_matches) return metric.counter.value;
      }
    }
    return 0;
  }

  std::string Logs() const {
    std::string logs;
    for (const std::string& line : sink_.Lines()) logs += line + "\n";
    return logs;
  }

  Topics topics_ = Topics::WithPrefix("t1.");
  FakeAlertStore store_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("audit-consumer-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  crypto::BlindIndex blind_index_ =
      crypto::BlindIndex::Create("audit-consumer-test-blind-index-key-0123456789").value();
  BatchWriter writer_{store_, {}};
  AuditEventHandler handler_{writer_, personal_data_, blind_index_, topics_,           metrics_,
                             clock_,  logger_,        redactor_,    Transit().cipher()};
};

TEST_F(AuditEventHandlerTest, RequestOnSmsTopicCreatesQueuedAlert) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 41, RequestValue())).ok());
  std::optional<AlertRecord> alert = store_.Find(kAlertId);
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(Consumed(topics_.sms_requests, "applied"), 1);
}

TEST_F(AuditEventHandlerTest, DeliveryEventOnDeliveryTopicMovesAlertToSent) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.voice_requests, 0, RequestValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 7, AcceptedValue())).ok());
  EXPECT_EQ(store_.Find(kAlertId)->status, klaxon::types::v1::ALERT_STATUS_SENT);
}

TEST_F(AuditEventHandlerTest, UndecodableMessageIsInvalidArgumentAndCounted) {
  // A DeliveryEvent on a request topic does not decode as AlertRequested.
  absl::Status status = HandleAndWait(handler_, Message(topics_.sms_requests, 9, "\xff\x01"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_.Find(kAlertId).has_value());
  EXPECT_TRUE(store_.Events().empty());
  EXPECT_EQ(Consumed(topics_.sms_requests, "invalid"), 1);
}

TEST_F(AuditEventHandlerTest, UnknownTopicIsInvalidArgumentAndRecordsNothing) {
  absl::Status status = HandleAndWait(handler_, Message("t1.klaxon.dlq", 5, RequestValue()));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.Events().empty());
  EXPECT_EQ(Consumed("t1.klaxon.dlq", "invalid"), 1);
}

TEST_F(AuditEventHandlerTest, DatabaseDownIsRetryable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  absl::Status status = HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue()));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Consumed(topics_.sms_requests, "retry"), 1);
}

TEST_F(AuditEventHandlerTest, OtherStoreFailureIsReportedAsRetryableNotSkipped) {
  store_.FailWith(absl::InternalError("relation \"alerts\" does not exist"));
  absl::Status status = HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue()));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(AuditEventHandlerTest, UndecodableMessageIsSkippedWithoutTheStoreEvenWhenItIsDown) {
  // Nothing of it is written (the progress recorder moves past it), so a store outage cannot
  // hold a poison message in retry.
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  absl::Status status = HandleAndWait(handler_, Message(topics_.sms_requests, 9, "\xff\x01"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditEventHandlerTest, RedeliveredMessageChangesNothing) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  const AlertRecord before = *store_.Find(kAlertId);
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  EXPECT_EQ(*store_.Find(kAlertId), before);
}

TEST_F(AuditEventHandlerTest, CountsEachStatusTheAlertMovesTo) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  EXPECT_EQ(StatusReached("QUEUED"), 1);
  EXPECT_EQ(StatusReached("SENT"), 1);
}

TEST_F(AuditEventHandlerTest, RedeliveredEventIsNotCountedAgain) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  EXPECT_EQ(StatusReached("SENT"), 1);
}

TEST_F(AuditEventHandlerTest, LateLowerStatusIsNotCounted) {
  // The outcome was consumed first; the request that follows fills in the record but its QUEUED
  // would lower the status, so the alert never moved to QUEUED.
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  EXPECT_EQ(StatusReached("SENT"), 1);
  EXPECT_EQ(StatusReached("QUEUED"), 0);
}

TEST_F(AuditEventHandlerTest, DeliveredCallbackMovesAlertToDelivered) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 3, MessageStatusValue("delivered", 0)))
          .ok());
  EXPECT_EQ(store_.Find(kAlertId)->status, klaxon::types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(StatusReached("DELIVERED"), 1);
  EXPECT_EQ(TwilioEvents("message_status", "applied"), 1);
  EXPECT_EQ(Consumed(topics_.twilio_events, "applied"), 1);
}

TEST_F(AuditEventHandlerTest, UndeliveredCallbackBeforeTheRequestEndsUndeliveredForItsCaller) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.twilio_events, 3,
                                              MessageStatusValue("undelivered", 30003)))
                  .ok());
  EXPECT_FALSE(store_.GetAlert("billing", kAlertId)->has_value()) << "caller not known yet";
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  std::optional<AlertRecord> alert = *store_.GetAlert("billing", kAlertId);
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(alert->twilio_error_code, 30003);
  EXPECT_EQ(alert->recipient_last4, "0100");
}

TEST_F(AuditEventHandlerTest, CallbackWithoutAlertIdIsAcknowledgedCountedAndLogged) {
  const absl::Status status = HandleAndWait(
      handler_, Message(topics_.twilio_events, 8, MessageStatusValue("delivered", 0, "")));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(store_.Events().size(), 1);
  EXPECT_EQ(TwilioEvents("message_status", "no_alert_id"), 1);
  EXPECT_EQ(Consumed(topics_.twilio_events, "ignored"), 1);
  EXPECT_THAT(Logs(), ::testing::HasSubstr("\"event\":\"twilio_event_ignored\""));
  EXPECT_THAT(Logs(), ::testing::HasSubstr("\"sid\":\"SM1\""));
}

TEST_F(AuditEventHandlerTest, InboundMessageIsAcknowledgedAndItsNumberAndBodyAreNotLogged) {
  klaxon::events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'005);
  event.mutable_inbound_message()->set_message_sid("SMin");
  Transit().Seal(*event.mutable_inbound_message(), "+14155550100", "on my way, call 4155550100");
  EXPECT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 0, event.SerializeAsString())).ok());
  EXPECT_EQ(TwilioEvents("inbound_message", "not_a_status_callback"), 1);
  EXPECT_FALSE(Logs().empty());
  EXPECT_THAT(Logs(), ::testing::Not(::testing::HasSubstr("4155550100")));
  EXPECT_THAT(Logs(), ::testing::Not(::testing::HasSubstr("on my way")));
}

TEST_F(AuditEventHandlerTest, UnknownStatusIsAcknowledgedWithAWarning) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  EXPECT_TRUE(HandleAndWait(handler_, Message(topics_.twilio_events, 4,
                                              MessageStatusValue("partially_delivered", 0)))
                  .ok());
  EXPECT_EQ(store_.Find(kAlertId)->status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(TwilioEvents("message_status", "unknown_status"), 1);
  EXPECT_THAT(Logs(), ::testing::HasSubstr("\"level\":\"warn\""));
  EXPECT_THAT(Logs(), ::testing::HasSubstr("partially_delivered"));
}

TEST_F(AuditEventHandlerTest, UndecodableTwilioEventIsInvalidArgumentAndCounted) {
  const absl::Status status =
      HandleAndWait(handler_, Message(topics_.twilio_events, 6, "\xff\x01"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.Events().empty());
  EXPECT_EQ(Consumed(topics_.twilio_events, "invalid"), 1);
}

TEST_F(AuditEventHandlerTest, StoreDownWhileAcknowledgingIgnoredTwilioEventIsRetryable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  const absl::Status status = HandleAndWait(
      handler_, Message(topics_.twilio_events, 8, MessageStatusValue("delivered", 0, "")));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(TwilioEvents("message_status", "no_alert_id"), 0);
}

TEST_F(AuditEventHandlerTest, OptOutIsRecordedAsTheRecipientsConsentUnderItsToken) {
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 10, KeywordValue(true, 5))).ok());
  std::optional<ConsentChange> consent = store_.FindConsent(redactor_.Token(kRecipient));
  ASSERT_TRUE(consent.has_value());
  EXPECT_TRUE(consent->opted_out);
  EXPECT_EQ(consent->keyword, "STOP");
  EXPECT_EQ(consent->changed_at, absl::FromUnixSeconds(1'700'000'005));
  EXPECT_EQ(TwilioEvents("opt_out", "recorded"), 1);
  EXPECT_EQ(Consumed(topics_.twilio_events, "applied"), 1);
}

TEST_F(AuditEventHandlerTest, ConsentChangeIsLoggedWithoutTheNumber) {
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 10, KeywordValue(true, 5))).ok());
  EXPECT_THAT(Logs(), ::testing::HasSubstr(redactor_.Token(kRecipient)));
  EXPECT_THAT(Logs(), ::testing::Not(::testing::HasSubstr("4155550100")));
}

TEST_F(AuditEventHandlerTest, OptOutOlderThanTheRecordedOptInIsStaleAndKeepsTheOptIn) {
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 10, KeywordValue(false, 9))).ok());
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 11, KeywordValue(true, 5))).ok());
  EXPECT_FALSE(store_.FindConsent(redactor_.Token(kRecipient))->opted_out);
  EXPECT_EQ(TwilioEvents("opt_out", "stale"), 1);
  EXPECT_EQ(store_.Events().size(), 2);
}

TEST_F(AuditEventHandlerTest, StoreDownWhileRecordingConsentIsRetryable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  const absl::Status status =
      HandleAndWait(handler_, Message(topics_.twilio_events, 10, KeywordValue(true, 5)));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(TwilioEvents("opt_out", "recorded"), 0);
}

// Whether `haystack` holds `needle`'s bytes anywhere.
bool Holds(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(AuditEventHandlerTest, RequestReachesTheStoreSealedWithoutPlaintext) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  const AlertRecord alert = *store_.Find(kAlertId);
  ASSERT_FALSE(alert.recipient_ciphertext.empty());
  ASSERT_TRUE(alert.data_key.has_value());
  for (const std::string& field : {alert.recipient_ciphertext, alert.text_ciphertext,
                                   alert.recipient_index, alert.data_key->sealed}) {
    EXPECT_FALSE(Holds(field, "4155550100"));
    EXPECT_FALSE(Holds(field, kText));
  }
  for (const EventLogEntry& row : store_.Events()) {
    for (const std::string& field : {row.reason, row.recipient_index, row.recipient_last4}) {
      EXPECT_FALSE(Holds(field, "4155550100"));
      EXPECT_FALSE(Holds(field, kText));
    }
  }
  // ...and they open again, under the alert's own data key.
  absl::StatusOr<Fields> opened =
      personal_data_.Open("alerts", kAlertId, *alert.data_key,
                          {{"recipient_ciphertext", alert.recipient_ciphertext},
                           {"text_ciphertext", alert.text_ciphertext}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->at("recipient_ciphertext"), "+14155550100");
  EXPECT_EQ(opened->at("text_ciphertext"), kText);
  EXPECT_EQ(alert.recipient_index, blind_index_.Compute("+14155550100"));
}

TEST_F(AuditEventHandlerTest, RedeliveredRequestKeepsTheFirstSealedFieldsAndDataKey) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  const AlertRecord first = *store_.Find(kAlertId);
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  // A retry's request (attempt 2) is a new event, sealed again, and still changes nothing sealed.
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 2, RequestValue(2))).ok());
  const AlertRecord after = *store_.Find(kAlertId);
  EXPECT_EQ(after.recipient_ciphertext, first.recipient_ciphertext);
  EXPECT_EQ(after.data_key, first.data_key);
  EXPECT_EQ(store_.DataKeys().size(), 1);
}

TEST_F(AuditEventHandlerTest, EveryEventBecomesOneLogRowOnce) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, AcceptedValue())).ok());
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 3, MessageStatusValue("delivered", 0)))
          .ok());
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 4, KeywordValue(true, 5))).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.twilio_events, 5, InboundValue())).ok());
  std::vector<std::string> kinds;
  for (const EventLogEntry& row : store_.Events()) kinds.push_back(row.kind);
  EXPECT_THAT(kinds, ::testing::ElementsAre("requested", "accepted", "message_status", "opt_out",
                                            "inbound_message"));
}

TEST_F(AuditEventHandlerTest, CallbackRowTakesCallerAndRecipientFromTheAlert) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  ASSERT_TRUE(
      HandleAndWait(handler_, Message(topics_.twilio_events, 3, MessageStatusValue("delivered", 0)))
          .ok());
  const EventLogEntry row = store_.Events().back();
  EXPECT_EQ(row.caller, "billing");
  EXPECT_EQ(row.recipient_index, blind_index_.Compute("+14155550100"));
  EXPECT_EQ(row.recipient_country_code, "1");
  EXPECT_EQ(row.recipient_last4, "0100");
  EXPECT_EQ(row.status, klaxon::types::v1::ALERT_STATUS_DELIVERED);
}

TEST_F(AuditEventHandlerTest, RetriesAndDeferralsAreCountedOnceEach) {
  using klaxon::events::v1::DeliveryOutcome;
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.sms_requests, 1, RequestValue())).ok());
  const std::string retry = OutcomeValue(DeliveryOutcome::KIND_RETRY_SCHEDULED, 1);
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, retry)).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 2, retry)).ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 3,
                                              OutcomeValue(DeliveryOutcome::KIND_DEFERRED, 2)))
                  .ok());
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.delivery_events, 4,
                                              OutcomeValue(DeliveryOutcome::KIND_ACCEPTED, 3)))
                  .ok());
  EXPECT_EQ(store_.Find(kAlertId)->retry_count, 2);
  EXPECT_EQ(store_.Events().back().retry_count, 2);
}

TEST_F(AuditEventHandlerTest, InboundMessageIsSealedUnderItsEventsOwnDataKey) {
  ASSERT_TRUE(HandleAndWait(handler_, Message(topics_.twilio_events, 5, InboundValue())).ok());
  const EventLogEntry row = store_.Events().back();
  ASSERT_TRUE(row.personal.has_value());
  EXPECT_EQ(row.personal->owner, "audit_events/twilio:sid:SMin:received:0");
  EXPECT_EQ(row.recipient_index, blind_index_.Compute("+14155550100"));
  EXPECT_EQ(row.recipient_last4, "0100");
  const std::string& sealed = row.personal->ciphertext.at("personal_ciphertext");
  EXPECT_FALSE(Holds(sealed, "call me back"));
  EXPECT_FALSE(Holds(sealed, "4155550100"));
  absl::StatusOr<Fields> opened = personal_data_.Open(
      "audit_events", row.event_key, row.personal->wrapped_key, {{"personal_ciphertext", sealed}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->at("personal_ciphertext"), R"({"body":"call me back","from":"+14155550100"})");
  EXPECT_EQ(store_.DataKeys().count(row.personal->owner), 1);
}

}  // namespace
}  // namespace klaxon::audit::audit_event_handler_test
