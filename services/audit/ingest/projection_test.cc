#include "services/audit/ingest/projection.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace klaxon::audit {

// So a failed comparison shows what differs. In AlertRecord's namespace, where gtest looks for it.
void PrintTo(const AlertRecord& record, std::ostream* out) {
  *out << "{caller=" << record.caller << " channel=" << record.channel
       << " status=" << record.status << " sid=" << record.twilio_sid
       << " code=" << record.twilio_error_code << " reason=" << record.reason
       << " created=" << record.created_at << " updated=" << record.updated_at
       << " status_at=" << record.status_at << " attempts=[";
  for (const AttemptRecord& attempt : record.attempts) {
    *out << " {#" << attempt.number << " channel=" << attempt.channel
         << " status=" << attempt.status << " sid=" << attempt.twilio_sid
         << " reason=" << attempt.reason << " at=" << attempt.occurred_at << "}";
  }
  *out << " ]}";
}

namespace projection_test {
namespace {

using klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
using klaxon::types::v1::ALERT_STATUS_CANCELLED;
using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_FAILED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using klaxon::types::v1::ALERT_STATUS_SUPPRESSED;
using klaxon::types::v1::ALERT_STATUS_UNDELIVERED;
using klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
using klaxon::types::v1::ALERT_STATUS_WAITING;
using klaxon::types::v1::CHANNEL_SMS;
using klaxon::types::v1::CHANNEL_VOICE;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

AlertEvent Requested(absl::Duration at = absl::ZeroDuration()) {
  return {.kind = AlertEvent::Kind::kRequested,
          .alert_id = kAlertId,
          .caller = "billing",
          .channel = CHANNEL_SMS,
          .attempt = 1,
          .occurred_at = kT0 + at,
          .status = ALERT_STATUS_QUEUED,
          .recipient_country_code = "44",
          .recipient_last4 = "0123"};
}

AlertEvent Outcome(AlertStatus status, absl::Duration at, std::string sid = "SM1", int32_t code = 0,
                   std::string reason = "") {
  return {.kind = AlertEvent::Kind::kOutcome,
          .alert_id = kAlertId,
          .caller = "billing",
          .channel = CHANNEL_SMS,
          .attempt = 1,
          .occurred_at = kT0 + at,
          .status = status,
          .twilio_sid = std::move(sid),
          .twilio_error_code = code,
          .reason = std::move(reason)};
}

// A worker's read of what Twilio charged for attempt `attempt` (ADR 0036).
AlertEvent Charged(absl::Duration at, int64_t micros = 15'800, uint32_t attempt = 1) {
  return {.kind = AlertEvent::Kind::kOutcome,
          .alert_id = kAlertId,
          .caller = "billing",
          .channel = CHANNEL_SMS,
          .attempt = attempt,
          .occurred_at = kT0 + at,
          .twilio_sid = "SM1",
          .reason = "Twilio charged",
          .charge = ChargeRecord{
              .micros = micros, .currency = "USD", .segments = 2, .twilio_account = "main"}};
}

AlertRecord ApplyAll(const std::vector<AlertEvent>& events) {
  std::optional<AlertRecord> record;
  for (const AlertEvent& event : events) record = ApplyEvent(record, event);
  return *record;
}

// An event that moves the alert to `alert_status` and its attempt to `attempt_status`.
AlertEvent Split(AlertStatus attempt_status, AlertStatus alert_status, absl::Duration at,
                 std::string reason, uint32_t attempt = 1) {
  AlertEvent event = Outcome(attempt_status, at, "", 0, "attempt: " + reason);
  event.attempt = attempt;
  event.alert_status = alert_status;
  event.alert_reason = std::move(reason);
  return event;
}

// A voice call's status callback: it moves only its attempt.
AlertEvent CallCallback(AlertStatus status, absl::Duration at, uint32_t attempt) {
  AlertEvent event = Outcome(status, at, absl::StrCat("CA", attempt));
  event.caller = "";
  event.channel = CHANNEL_VOICE;
  event.attempt = attempt;
  event.alert_status = ALERT_STATUS_UNSPECIFIED;
  return event;
}

AlertEvent OnVoice(AlertEvent event) {
  event.channel = CHANNEL_VOICE;
  return event;
}

AlertEvent VoiceRequested() {
  AlertEvent event = Requested();
  event.channel = CHANNEL_VOICE;
  return event;
}

AlertEvent VoiceOutcome(AlertStatus status, absl::Duration at, uint32_t attempt) {
  AlertEvent event = Outcome(status, at, absl::StrCat("CA", attempt));
  event.channel = CHANNEL_VOICE;
  event.attempt = attempt;
  return event;
}

// The alert stands for an escalation chain (ADR 0029): it is the chain's first page.
AlertEvent ChainRequested() {
  AlertEvent event = Requested();
  event.escalation_id = kAlertId;
  event.escalation_step = 1;
  return event;
}

constexpr char kFirstPageId[] = "0190f1c4-7a3e-7b12-9c4d-0000000000b1";
constexpr char kSecondPageId[] = "0190f1c4-7a3e-7b12-9c4d-0000000000b2";
constexpr char kThirdPageId[] = "0190f1c4-7a3e-7b12-9c4d-0000000000b3";

// The chain's record that `page`, at `step`, was acknowledged: about the chain, moving no attempt.
AlertEvent ChainAcknowledged(const std::string& page, uint32_t step, absl::Duration at) {
  AlertEvent event = Split(ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_ACKNOWLEDGED, at,
                           absl::StrCat("the escalation was acknowledged at step ", step));
  event.acknowledged_by = page;
  event.acknowledged_step = step;
  return event;
}

TEST(ProjectionTest, RequestSetsTheEscalationChainAndStep) {
  AlertEvent page = Requested();  // a page of the third step of the chain kFirstPageId starts
  page.escalation_id = kFirstPageId;
  page.escalation_step = 3;
  AlertRecord record = ApplyEvent(std::nullopt, page);
  EXPECT_EQ(record.escalation_id, kFirstPageId);
  EXPECT_EQ(record.escalation_step, 3u);
}

// The alert's text came from a template (ADR 0030).
AlertEvent TemplatedRequested() {
  AlertEvent event = Requested();
  event.template_name = "disk-full";
  event.template_locale = "de-DE";
  event.template_version = 3;
  return event;
}

TEST(ProjectionTest, RequestSetsTheTemplate) {
  AlertRecord record = ApplyEvent(std::nullopt, TemplatedRequested());
  EXPECT_EQ(record.template_name, "disk-full");
  EXPECT_EQ(record.template_locale, "de-DE");
  EXPECT_EQ(record.template_version, 3u);
}

TEST(ProjectionTest, RequestConsumedAfterAnOutcomeStillSetsTheTemplate) {
  AlertRecord record =
      ApplyAll({Outcome(ALERT_STATUS_SENT, absl::Seconds(1)), TemplatedRequested()});
  EXPECT_EQ(record.template_name, "disk-full");
  EXPECT_EQ(record.template_locale, "de-DE");
  EXPECT_EQ(record.template_version, 3u);
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
}

TEST(ProjectionTest, OutcomesLeaveTheTemplateAlone) {
  AlertRecord record = ApplyAll({TemplatedRequested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
                                 Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(2))});
  EXPECT_EQ(record.template_name, "disk-full");
  EXPECT_EQ(record.template_version, 3u);
}

TEST(ProjectionTest, ChainsAcknowledgementRecordsThePageItsStepAndWhen) {
  AlertRecord record =
      ApplyAll({ChainRequested(), Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(1)),
                ChainAcknowledged(kSecondPageId, 2, absl::Seconds(90))});
  EXPECT_EQ(record.status, ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(record.acknowledged_by, kSecondPageId);
  EXPECT_EQ(record.acknowledged_step, 2u);
  EXPECT_EQ(record.acknowledged_at, kT0 + absl::Seconds(90));
  EXPECT_EQ(record.updated_at, kT0 + absl::Seconds(90));
}

TEST(ProjectionTest, FirstPageNamedStaysTheChainsAcknowledger) {
  AlertRecord first =
      ApplyAll({ChainRequested(), ChainAcknowledged(kSecondPageId, 2, absl::Seconds(90))});
  // Another page acknowledged after the chain stopped makes the chain's record again.
  EXPECT_EQ(ApplyEvent(first, ChainAcknowledged(kThirdPageId, 3, absl::Seconds(95))), first);
  EXPECT_EQ(ApplyEvent(first, ChainAcknowledged(kThirdPageId, 3, absl::Seconds(80))), first);
}

TEST(ProjectionTest, RedeliveredChainAcknowledgementChangesNothing) {
  AlertRecord once =
      ApplyAll({ChainRequested(), ChainAcknowledged(kSecondPageId, 2, absl::Seconds(90))});
  EXPECT_EQ(ApplyEvent(once, ChainAcknowledged(kSecondPageId, 2, absl::Seconds(90))), once);
}

// The first page's own acknowledgement moves the chain's alert first; the chain's record, naming
// that page, still says who acknowledged.
TEST(ProjectionTest, ChainsRecordAfterItsAlertIsAcknowledgedStillNamesThePage) {
  AlertRecord acknowledged =
      ApplyAll({ChainRequested(), Split(ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_ACKNOWLEDGED,
                                        absl::Seconds(30), "acknowledged by reply")});
  AlertRecord record = ApplyEvent(acknowledged, ChainAcknowledged(kAlertId, 1, absl::Seconds(31)));
  EXPECT_EQ(record.acknowledged_by, kAlertId);
  EXPECT_EQ(record.acknowledged_step, 1u);
  EXPECT_EQ(record.acknowledged_at, kT0 + absl::Seconds(31));
  EXPECT_EQ(record.updated_at, kT0 + absl::Seconds(31));
  EXPECT_EQ(record.reason, "acknowledged by reply");
}

TEST(ProjectionTest, RetryLeavesTheAttemptFailedAndTheAlertWaitingWithWhy) {
  AlertRecord record =
      ApplyAll({Requested(), Split(ALERT_STATUS_FAILED, ALERT_STATUS_WAITING, absl::Seconds(1),
                                   "Twilio answered 429; retrying at 2023-11-14T22:13:30Z")});
  EXPECT_EQ(record.status, ALERT_STATUS_WAITING);
  EXPECT_EQ(record.reason, "Twilio answered 429; retrying at 2023-11-14T22:13:30Z");
  EXPECT_EQ(record.status_at, kT0 + absl::Seconds(1));
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_FAILED);
}

TEST(ProjectionTest, NewerWaitingReplacesTheReasonOfAnOlderOne) {
  AlertRecord record = ApplyAll(
      {Requested(), Outcome(ALERT_STATUS_WAITING, absl::Seconds(1), "", 0, "sender pacing"),
       Outcome(ALERT_STATUS_WAITING, absl::Seconds(2), "", 0, "recipient limit")});
  EXPECT_EQ(record.status, ALERT_STATUS_WAITING);
  EXPECT_EQ(record.reason, "recipient limit");
  EXPECT_EQ(record.attempts[0].reason, "recipient limit");
}

TEST(ProjectionTest, OlderWaitingConsumedLateChangesNothing) {
  AlertRecord record = ApplyAll(
      {Requested(), Outcome(ALERT_STATUS_WAITING, absl::Seconds(2), "", 0, "recipient limit"),
       Outcome(ALERT_STATUS_WAITING, absl::Seconds(1), "", 0, "sender pacing")});
  EXPECT_EQ(record.reason, "recipient limit");
}

TEST(ProjectionTest, WaitingNeverLowersSent) {
  AlertRecord record =
      ApplyAll({Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
                Outcome(ALERT_STATUS_WAITING, absl::Seconds(2), "", 0, "sender pacing")});
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
}

TEST(ProjectionTest, AcknowledgedOutranksDelivered) {
  AlertRecord record =
      ApplyAll({Requested(), VoiceOutcome(ALERT_STATUS_DELIVERED, absl::Seconds(3), 1),
                VoiceOutcome(ALERT_STATUS_ACKNOWLEDGED, absl::Seconds(4), 1)});
  EXPECT_EQ(record.status, ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_ACKNOWLEDGED);
}

TEST(ProjectionTest, LateCompletedCallbackCannotUndoAcknowledged) {
  AlertRecord record =
      ApplyAll({Requested(), VoiceOutcome(ALERT_STATUS_ACKNOWLEDGED, absl::Seconds(4), 1),
                VoiceOutcome(ALERT_STATUS_DELIVERED, absl::Seconds(5), 1)});
  EXPECT_EQ(record.status, ALERT_STATUS_ACKNOWLEDGED);
}

TEST(ProjectionTest, CancelledIsFinal) {
  AlertRecord record = ApplyAll({Requested(), Outcome(ALERT_STATUS_CANCELLED, absl::Seconds(1)),
                                 Outcome(ALERT_STATUS_SENT, absl::Seconds(2))});
  EXPECT_EQ(record.status, ALERT_STATUS_CANCELLED);
}

TEST(ProjectionTest, CallCallbackMovesOnlyItsAttempt) {
  AlertRecord record = ApplyAll({Requested(), VoiceOutcome(ALERT_STATUS_SENT, absl::Seconds(1), 1),
                                 CallCallback(ALERT_STATUS_UNDELIVERED, absl::Seconds(2), 1)});
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_UNDELIVERED);
}

TEST(ProjectionTest, CallCallbackFirstLeavesTheAlertWithoutStatus) {
  AlertRecord record =
      ApplyEvent(std::nullopt, CallCallback(ALERT_STATUS_UNDELIVERED, absl::Seconds(2), 1));
  EXPECT_EQ(record.status, ALERT_STATUS_UNSPECIFIED);
  record = ApplyEvent(record, Requested());
  EXPECT_EQ(record.status, ALERT_STATUS_QUEUED);
}

TEST(ProjectionTest, CancelRequestedMovesNoAttempt) {
  AlertEvent cancel = Split(ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_WAITING, absl::Seconds(1),
                            "the caller cancelled the alert; pending sends stop");
  AlertRecord record = ApplyAll({Requested(), cancel});
  EXPECT_EQ(record.status, ALERT_STATUS_WAITING);
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_QUEUED);
}

TEST(ProjectionTest, AttemptsKeepTheChannelTheyWereCreatedWith) {
  AlertEvent requested = Requested();
  requested.channel = CHANNEL_VOICE;
  AlertEvent fallback_sms = Outcome(ALERT_STATUS_SENT, absl::Seconds(9), "SM9");
  fallback_sms.attempt = 2;
  AlertRecord record = ApplyAll({requested, fallback_sms});
  ASSERT_EQ(record.attempts.size(), 2u);
  EXPECT_EQ(record.attempts[0].channel, CHANNEL_VOICE);
  EXPECT_EQ(record.attempts[1].channel, CHANNEL_SMS);
}

TEST(ProjectionTest, RequestedCreatesQueuedAlertWithRecipientSummary) {
  AlertRecord record = ApplyEvent(std::nullopt, Requested());
  EXPECT_EQ(record.alert_id, kAlertId);
  EXPECT_EQ(record.caller, "billing");
  EXPECT_EQ(record.channel, CHANNEL_SMS);
  EXPECT_EQ(record.status, ALERT_STATUS_QUEUED);
  EXPECT_TRUE(record.requested);
  EXPECT_EQ(record.recipient_country_code, "44");
  EXPECT_EQ(record.recipient_last4, "0123");
  EXPECT_EQ(record.created_at, kT0);
  EXPECT_EQ(record.updated_at, kT0);
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_QUEUED);
}

TEST(ProjectionTest, AcceptedMovesToSentWithSid) {
  AlertRecord record = ApplyAll({Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1))});
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
  EXPECT_EQ(record.twilio_sid, "SM1");
  EXPECT_EQ(record.updated_at, kT0 + absl::Seconds(1));
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_SENT);
  EXPECT_EQ(record.attempts[0].twilio_sid, "SM1");
}

TEST(ProjectionTest, RejectedMovesToFailedWithCodeAndReason) {
  AlertRecord record = ApplyAll(
      {Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 21211, "invalid number")});
  EXPECT_EQ(record.status, ALERT_STATUS_FAILED);
  EXPECT_EQ(record.twilio_error_code, 21211);
  EXPECT_EQ(record.reason, "invalid number");
}

TEST(ProjectionTest, LateSentAfterDeliveredChangesNothing) {
  AlertRecord delivered =
      ApplyAll({Requested(), Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(2), "SM1")});
  AlertRecord after = ApplyEvent(delivered, Outcome(ALERT_STATUS_SENT, absl::Seconds(1), "SM9"));
  EXPECT_EQ(after, delivered);
}

TEST(ProjectionTest, FirstFinalWinsOverALaterDifferentFinal) {
  AlertRecord delivered =
      ApplyAll({Requested(), Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(2), "SM1")});
  AlertRecord after =
      ApplyEvent(delivered, Outcome(ALERT_STATUS_UNDELIVERED, absl::Seconds(3), "SM1", 30003));
  EXPECT_EQ(after, delivered);
}

TEST(ProjectionTest, DuplicateEventChangesNothing) {
  AlertRecord once = ApplyAll({Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1))});
  EXPECT_EQ(ApplyEvent(once, Outcome(ALERT_STATUS_SENT, absl::Seconds(1))), once);
  EXPECT_EQ(ApplyEvent(once, Requested()), once);
}

TEST(ProjectionTest, OutcomeBeforeRequestCreatesRecordWithoutRecipient) {
  AlertRecord record = ApplyEvent(std::nullopt, Outcome(ALERT_STATUS_SENT, absl::Seconds(1)));
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
  EXPECT_EQ(record.caller, "billing");
  EXPECT_FALSE(record.requested);
  EXPECT_EQ(record.recipient_last4, "");
}

TEST(ProjectionTest, LateRequestFillsFieldsWithoutLoweringStatus) {
  AlertRecord record = ApplyAll({Outcome(ALERT_STATUS_SENT, absl::Seconds(1)), Requested()});
  EXPECT_EQ(record.status, ALERT_STATUS_SENT);
  EXPECT_TRUE(record.requested);
  EXPECT_EQ(record.recipient_country_code, "44");
  EXPECT_EQ(record.recipient_last4, "0123");
  EXPECT_EQ(record.created_at, kT0);
  EXPECT_EQ(record.updated_at, kT0 + absl::Seconds(1));
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_SENT);
}

// A status callback knows its alert only by the id in its URL: no caller.
AlertEvent Callback(AlertStatus status, absl::Duration at, int32_t code = 0,
                    std::string reason = "") {
  AlertEvent event = Outcome(status, at, "SM1", code, std::move(reason));
  event.caller = "";
  return event;
}

// A message callback for `attempt` (a voice alert's SMS fallback).
AlertEvent AttemptCallback(AlertStatus status, absl::Duration at, uint32_t attempt) {
  AlertEvent event = Callback(status, at);
  event.attempt = attempt;
  return event;
}

TEST(ProjectionTest, CallbackBeforeRequestGetsCallerAndChannelFromTheRequest) {
  AlertEvent callback = Callback(ALERT_STATUS_DELIVERED, absl::Seconds(3));
  callback.channel = klaxon::types::v1::CHANNEL_VOICE;  // say, an SMS sent for a voice alert
  AlertRecord record = ApplyEvent(std::nullopt, callback);
  EXPECT_EQ(record.caller, "");
  record = ApplyEvent(record, Requested());
  EXPECT_EQ(record.caller, "billing");
  EXPECT_EQ(record.channel, CHANNEL_SMS);
  EXPECT_EQ(record.status, ALERT_STATUS_DELIVERED);
  EXPECT_EQ(record.created_at, kT0);
}

TEST(ProjectionTest, WorkerOutcomeConsumedAfterCallbackFinalChangesNothing) {
  AlertRecord record =
      ApplyAll({Requested(), Callback(ALERT_STATUS_UNDELIVERED, absl::Seconds(4), 30003,
                                      "Twilio reported undelivered, error 30003")});
  EXPECT_EQ(ApplyEvent(record, Outcome(ALERT_STATUS_SENT, absl::Seconds(1))), record);
  EXPECT_EQ(record.status, ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(record.twilio_error_code, 30003);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(record.attempts[0].twilio_error_code, 30003);
}

TEST(ProjectionTest, WorkersFinalOutcomeKeepsItsPlaceAgainstALaterCallback) {
  // The first final wins: a worker that gave up is not overruled by a late callback.
  AlertRecord record =
      ApplyAll({Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 0, "gave up"),
                Callback(ALERT_STATUS_DELIVERED, absl::Seconds(2))});
  EXPECT_EQ(record.status, ALERT_STATUS_FAILED);
  EXPECT_EQ(record.reason, "gave up");
}

TEST(ProjectionTest, AttemptsAreKeptInNumberOrder) {
  AlertEvent second = Outcome(ALERT_STATUS_SENT, absl::Seconds(5), "SM2");
  second.attempt = 2;
  AlertRecord record = ApplyAll({second, Requested()});
  ASSERT_EQ(record.attempts.size(), 2u);
  EXPECT_EQ(record.attempts[0].number, 1u);
  EXPECT_EQ(record.attempts[1].number, 2u);
}

// Property: for the event histories the pipeline produces (a request, its outcome and Twilio's
// final callback, each possibly redelivered), every consumption order yields the record of the
// natural order, and no step ever lowers the status rank.
TEST(ProjectionTest, AChargeIsRecordedOnItsAttemptAndMovesNoStatus) {
  const AlertRecord record =
      ApplyAll({Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
                Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4)), Charged(absl::Seconds(30))});
  EXPECT_EQ(record.status, ALERT_STATUS_DELIVERED);
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_DELIVERED);
  EXPECT_EQ(record.attempts[0].occurred_at, kT0 + absl::Seconds(4));
  ASSERT_TRUE(record.attempts[0].charge.has_value());
  EXPECT_EQ(record.attempts[0].charge->micros, 15'800);
  EXPECT_EQ(record.attempts[0].charge->twilio_account, "main");
  EXPECT_EQ(record.updated_at, kT0 + absl::Seconds(30));
}

TEST(ProjectionTest, TheFirstChargeReadIsKept) {
  const AlertRecord first = ApplyAll(
      {Requested(), Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4)), Charged(absl::Seconds(30))});
  const AlertRecord again = ApplyEvent(first, Charged(absl::Seconds(90), 99'000));
  EXPECT_EQ(again, first);
}

TEST(ProjectionTest, AChargeConsumedBeforeItsAttemptsOutcomesKeepsItsPlace) {
  const AlertRecord record = ApplyAll({Charged(absl::Seconds(30)), Requested(),
                                       Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4)),
                                       Outcome(ALERT_STATUS_SENT, absl::Seconds(1))});
  EXPECT_EQ(record.status, ALERT_STATUS_DELIVERED);
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].status, ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(record.attempts[0].charge.has_value());
  EXPECT_EQ(record.attempts[0].charge->micros, 15'800);
}

TEST(ProjectionPropertyTest, EveryOrderOfDuplicatedEventsConverges) {
  const std::vector<std::vector<AlertEvent>> histories = {
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4))},
      // What Twilio charged, read once the attempt was final (the read follows a final status).
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Callback(ALERT_STATUS_DELIVERED, absl::Seconds(4), 0, ""), Charged(absl::Seconds(30))},
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Outcome(ALERT_STATUS_UNDELIVERED, absl::Seconds(4), "SM1", 30003, "unreachable")},
      {Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 21211, "invalid number")},
      // Rendered from a template: the request names it, whenever it is consumed.
      {TemplatedRequested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4))},
      {Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(9), "", 20429, "gave up")},
      // The worker's outcome and Twilio's callbacks race on different topics.
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Callback(ALERT_STATUS_SENT, absl::Seconds(2)),
       Callback(ALERT_STATUS_FAILED, absl::Seconds(3), 30008, "Twilio reported failed")},
      // Limits and backoff: deferred twice, a retry, then delivered on the second attempt.
      {Requested(), Outcome(ALERT_STATUS_WAITING, absl::Seconds(1), "", 0, "sender pacing"),
       Outcome(ALERT_STATUS_WAITING, absl::Seconds(2), "", 0, "recipient limit"),
       Split(ALERT_STATUS_FAILED, ALERT_STATUS_WAITING, absl::Seconds(3), "retrying"),
       Split(ALERT_STATUS_SENT, ALERT_STATUS_SENT, absl::Seconds(5), "", 2),
       Split(ALERT_STATUS_DELIVERED, ALERT_STATUS_DELIVERED, absl::Seconds(6), "", 2)},
      // Cancelled while waiting.
      {Requested(), Outcome(ALERT_STATUS_WAITING, absl::Seconds(1), "", 0, "recipient limit"),
       Split(ALERT_STATUS_UNSPECIFIED, ALERT_STATUS_WAITING, absl::Seconds(2), "cancel"),
       Outcome(ALERT_STATUS_CANCELLED, absl::Seconds(3), "", 0, "cancelled")},
      // Suppressed before any send, a stray deferral racing it.
      {Requested(), Outcome(ALERT_STATUS_WAITING, absl::Seconds(1), "", 0, "sender pacing"),
       Outcome(ALERT_STATUS_SUPPRESSED, absl::Seconds(2), "", 21610, "opted out")},
      // Voice: no answer, a second call, a key press; callbacks race the worker's outcomes. (The
      // first call's no-answer callback is left out: with the worker's retry that would be two
      // different finals for one attempt, where the first consumed wins by design.)
      {VoiceRequested(), VoiceOutcome(ALERT_STATUS_SENT, absl::Seconds(1), 1),
       CallCallback(ALERT_STATUS_SENT, absl::Seconds(2), 1),
       OnVoice(
           Split(ALERT_STATUS_UNDELIVERED, ALERT_STATUS_WAITING, absl::Seconds(3), "no answer")),
       VoiceOutcome(ALERT_STATUS_SENT, absl::Seconds(60), 2),
       CallCallback(ALERT_STATUS_DELIVERED, absl::Seconds(70), 2),
       VoiceOutcome(ALERT_STATUS_ACKNOWLEDGED, absl::Seconds(71), 2)},
      // Voice: nobody answers, the text follows by SMS and is delivered.
      {VoiceRequested(), VoiceOutcome(ALERT_STATUS_SENT, absl::Seconds(1), 1),
       CallCallback(ALERT_STATUS_UNDELIVERED, absl::Seconds(2), 1),
       OnVoice(Split(ALERT_STATUS_WAITING, ALERT_STATUS_UNSPECIFIED, absl::Seconds(3), "fallback")),
       Split(ALERT_STATUS_SENT, ALERT_STATUS_SENT, absl::Seconds(4), "", 2),
       AttemptCallback(ALERT_STATUS_DELIVERED, absl::Seconds(5), 2)},
      // An escalation chain stopped by its second page's acknowledgement. (Its first page's
      // outcomes are left out: they precede the chain's record on its partition, and the alert's
      // SID comes only with the status it moves.)
      {ChainRequested(), ChainAcknowledged(kSecondPageId, 2, absl::Seconds(300))},
  };
  std::mt19937 random(20240607);
  for (const std::vector<AlertEvent>& history : histories) {
    const AlertRecord expected = ApplyAll(history);
    std::vector<AlertEvent> delivered = history;
    delivered.insert(delivered.end(), history.begin(), history.end());  // at-least-once
    for (int round = 0; round < 200; ++round) {
      std::shuffle(delivered.begin(), delivered.end(), random);
      std::optional<AlertRecord> record;
      for (const AlertEvent& event : delivered) {
        AlertRecord next = ApplyEvent(record, event);
        if (record.has_value()) {
          ASSERT_GE(Rank(next.status), Rank(record->status));
        }
        record = std::move(next);
      }
      ASSERT_EQ(*record, expected) << "history of " << history.size() << " events, round " << round;
    }
  }
}

TEST(AdvancedStatusTest, NewAlertMovesToItsFirstStatus) {
  const AlertRecord next = ApplyEvent(std::nullopt, Requested());
  EXPECT_EQ(AdvancedStatus(std::nullopt, next),
            (StatusAdvance{.channel = CHANNEL_SMS, .status = ALERT_STATUS_QUEUED}));
}

TEST(AdvancedStatusTest, HigherRankMovesTheStatus) {
  const AlertRecord queued = ApplyEvent(std::nullopt, Requested());
  const AlertRecord delivered =
      ApplyEvent(queued, Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(2)));
  EXPECT_EQ(AdvancedStatus(queued, delivered),
            (StatusAdvance{.channel = CHANNEL_SMS, .status = ALERT_STATUS_DELIVERED}));
}

TEST(AdvancedStatusTest, DuplicateDoesNotMoveTheStatus) {
  const AlertRecord sent = ApplyEvent(std::nullopt, Outcome(ALERT_STATUS_SENT, absl::Seconds(1)));
  EXPECT_EQ(AdvancedStatus(sent, ApplyEvent(sent, Outcome(ALERT_STATUS_SENT, absl::Seconds(1)))),
            std::nullopt);
}

TEST(AdvancedStatusTest, LateLowerRankDoesNotMoveTheStatus) {
  const AlertRecord delivered =
      ApplyEvent(std::nullopt, Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(2)));
  // The request still changes the record (recipient, created_at), but not its status.
  const AlertRecord next = ApplyEvent(delivered, Requested());
  ASSERT_NE(next, delivered);
  EXPECT_EQ(AdvancedStatus(delivered, next), std::nullopt);
}

}  // namespace
}  // namespace projection_test
}  // namespace klaxon::audit
