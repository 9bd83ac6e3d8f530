#include "services/audit/projection.h"

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::audit {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_FAILED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using klaxon::types::v1::ALERT_STATUS_UNDELIVERED;
using klaxon::types::v1::CHANNEL_SMS;

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

AlertRecord ApplyAll(const std::vector<AlertEvent>& events) {
  std::optional<AlertRecord> record;
  for (const AlertEvent& event : events) record = ApplyEvent(record, event);
  return *record;
}

TEST(StatusRankTest, FinalsShareTheHighestRank) {
  EXPECT_LT(StatusRank(ALERT_STATUS_QUEUED), StatusRank(ALERT_STATUS_SENT));
  EXPECT_LT(StatusRank(ALERT_STATUS_SENT), StatusRank(ALERT_STATUS_DELIVERED));
  EXPECT_EQ(StatusRank(ALERT_STATUS_DELIVERED), StatusRank(ALERT_STATUS_UNDELIVERED));
  EXPECT_EQ(StatusRank(ALERT_STATUS_DELIVERED), StatusRank(ALERT_STATUS_FAILED));
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
TEST(ProjectionPropertyTest, EveryOrderOfDuplicatedEventsConverges) {
  const std::vector<std::vector<AlertEvent>> histories = {
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4))},
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Outcome(ALERT_STATUS_UNDELIVERED, absl::Seconds(4), "SM1", 30003, "unreachable")},
      {Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 21211, "invalid number")},
      {Requested(), Outcome(ALERT_STATUS_FAILED, absl::Seconds(9), "", 20429, "gave up")},
      // The worker's outcome and Twilio's callbacks race on different topics.
      {Requested(), Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
       Callback(ALERT_STATUS_SENT, absl::Seconds(2)),
       Callback(ALERT_STATUS_FAILED, absl::Seconds(3), 30008, "Twilio reported failed")},
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
          ASSERT_GE(StatusRank(next.status), StatusRank(record->status));
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
}  // namespace klaxon::audit
