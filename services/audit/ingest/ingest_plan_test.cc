#include "services/audit/ingest/ingest_plan.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/projection.h"

namespace klaxon::audit::ingest_plan_test {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using klaxon::types::v1::ALERT_STATUS_WAITING;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

IngestItem Item(AlertEvent event) {
  EventLogEntry entry = LogEntryOf(event);
  return {.entry = std::move(entry), .event = std::move(event)};
}

IngestItem Requested() {
  AlertEvent event{.kind = AlertEvent::Kind::kRequested,
                   .alert_id = kAlertId,
                   .caller = "billing",
                   .channel = klaxon::types::v1::CHANNEL_SMS,
                   .attempt = 1,
                   .occurred_at = kT0,
                   .status = ALERT_STATUS_QUEUED,
                   .recipient_country_code = "1",
                   .recipient_last4 = "0100",
                   .event_key = absl::StrCat("requested:", kAlertId, ":1"),
                   .log_kind = "requested"};
  IngestItem item = Item(std::move(event));
  item.entry.recipient_index = "index-bytes";
  item.alert_personal = SealedRecord{.owner = absl::StrCat("alerts/", kAlertId),
                                     .wrapped_key = {.kek_version = 1, .sealed = "wrapped"},
                                     .ciphertext = {{"recipient_ciphertext", "sealed-recipient"},
                                                    {"text_ciphertext", "sealed-text"}}};
  return item;
}

IngestItem Outcome(AlertStatus status, int seconds, std::string kind, bool counts_retry = false) {
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome,
                   .alert_id = kAlertId,
                   .caller = "billing",
                   .channel = klaxon::types::v1::CHANNEL_SMS,
                   .attempt = 1,
                   .occurred_at = kT0 + absl::Seconds(seconds),
                   .status = status,
                   .event_key = absl::StrCat("outcome:", kAlertId, ":1:", kind, ":", seconds),
                   .log_kind = kind,
                   .counts_retry = counts_retry};
  return Item(std::move(event));
}

TEST(IngestPlanTest, SeveralEventsOfOneAlertFoldInBatchOrder) {
  const std::vector<IngestItem> batch = {Requested(), Outcome(ALERT_STATUS_SENT, 1, "accepted"),
                                         Outcome(ALERT_STATUS_DELIVERED, 2, "delivered")};
  const IngestPlan plan = PlanIngest(batch, {}, {});
  AlertRecord expected = ApplyEvent(std::nullopt, *batch[0].event);
  expected = ApplyEvent(expected, *batch[1].event);
  expected = ApplyEvent(expected, *batch[2].event);
  ASSERT_EQ(plan.alerts.count(kAlertId), 1);
  EXPECT_EQ(plan.alerts.at(kAlertId).status, ALERT_STATUS_DELIVERED);
  EXPECT_EQ(plan.alerts.at(kAlertId).attempts, expected.attempts);
  ASSERT_EQ(plan.results.size(), 3);
  EXPECT_EQ(plan.results[0].advanced->status, ALERT_STATUS_QUEUED);
  EXPECT_EQ(plan.results[1].advanced->status, ALERT_STATUS_SENT);
  EXPECT_EQ(plan.results[2].advanced->status, ALERT_STATUS_DELIVERED);
  EXPECT_THAT(plan.advanced_alerts, ::testing::ElementsAre(kAlertId));
}

TEST(IngestPlanTest, StoredEventIsADuplicateAndChangesNothing) {
  const IngestItem accepted = Outcome(ALERT_STATUS_SENT, 1, "accepted");
  const IngestPlan plan = PlanIngest({accepted}, {}, {accepted.entry.event_key});
  EXPECT_TRUE(plan.results[0].duplicate);
  EXPECT_TRUE(plan.alerts.empty());
  EXPECT_TRUE(plan.events.empty());
}

TEST(IngestPlanTest, SameEventTwiceInOneBatchIsStoredOnce) {
  const IngestItem accepted = Outcome(ALERT_STATUS_SENT, 1, "accepted");
  const IngestPlan plan = PlanIngest({accepted, accepted}, {}, {});
  EXPECT_EQ(plan.events.size(), 1);
  EXPECT_FALSE(plan.results[0].duplicate);
  EXPECT_TRUE(plan.results[1].duplicate);
}

TEST(IngestPlanTest, RetryCountCountsEachNewRetryOnceAndRowsCarryTheCountBefore) {
  const IngestItem retry = Outcome(ALERT_STATUS_WAITING, 1, "retry_scheduled", true);
  const IngestItem deferred = Outcome(ALERT_STATUS_WAITING, 2, "deferred", true);
  const IngestItem accepted = Outcome(ALERT_STATUS_SENT, 3, "accepted");
  const IngestPlan plan = PlanIngest({Requested(), retry, retry, deferred, accepted}, {}, {});
  EXPECT_EQ(plan.alerts.at(kAlertId).retry_count, 2);
  ASSERT_EQ(plan.events.size(), 4);
  EXPECT_EQ(plan.events[1].retry_count, 0);  // the retry itself: none before it
  EXPECT_EQ(plan.events[2].retry_count, 1);
  EXPECT_EQ(plan.events[3].retry_count, 2);
}

TEST(IngestPlanTest, RetryAlreadyStoredIsNotCountedAgain) {
  const IngestItem retry = Outcome(ALERT_STATUS_WAITING, 1, "retry_scheduled", true);
  AlertRecord stored = ApplyEvent(std::nullopt, *retry.event);
  stored.retry_count = 1;
  const IngestPlan plan = PlanIngest({retry}, {{kAlertId, stored}}, {retry.entry.event_key});
  EXPECT_TRUE(plan.alerts.empty());
}

TEST(IngestPlanTest, RequestStoresSealedFieldsIndexAndDataKey) {
  const IngestPlan plan = PlanIngest({Requested()}, {}, {});
  const AlertRecord& alert = plan.alerts.at(kAlertId);
  EXPECT_EQ(alert.recipient_ciphertext, "sealed-recipient");
  EXPECT_EQ(alert.text_ciphertext, "sealed-text");
  EXPECT_EQ(alert.recipient_index, "index-bytes");
  ASSERT_EQ(plan.data_keys.size(), 1);
  EXPECT_EQ(plan.data_keys[0].first, absl::StrCat("alerts/", kAlertId));
}

TEST(IngestPlanTest, SealedFieldsOfTheFirstRequestWin) {
  const AlertRecord stored = PlanIngest({Requested()}, {}, {}).alerts.at(kAlertId);
  // A retry's AlertRequested (attempt 2) carries freshly sealed fields under a new data key.
  IngestItem again = Requested();
  again.event->attempt = 2;
  again.entry.event_key = absl::StrCat("requested:", kAlertId, ":2");
  again.alert_personal->ciphertext["recipient_ciphertext"] = "other";
  again.alert_personal->wrapped_key.sealed = "other-key";
  const IngestPlan plan = PlanIngest({again}, {{kAlertId, stored}}, {});
  EXPECT_EQ(plan.alerts.at(kAlertId).recipient_ciphertext, "sealed-recipient");
  EXPECT_EQ(plan.alerts.at(kAlertId).data_key->sealed, "wrapped");
  EXPECT_TRUE(plan.data_keys.empty());
}

TEST(IngestPlanTest, ShreddedAlertIsNeverSealedAgain) {
  AlertRecord stored = PlanIngest({Requested()}, {}, {}).alerts.at(kAlertId);
  stored.data_key.reset();  // retention deleted the data key
  const IngestPlan plan = PlanIngest({Requested()}, {{kAlertId, stored}}, {});
  EXPECT_TRUE(plan.data_keys.empty());
}

TEST(IngestPlanTest, OutcomeRowTakesCallerAndRecipientFromTheAlert) {
  IngestItem callback = Outcome(ALERT_STATUS_DELIVERED, 4, "message_status");
  callback.event->caller.clear();
  callback.entry.caller.clear();
  const IngestPlan plan = PlanIngest({Requested(), callback}, {}, {});
  ASSERT_EQ(plan.events.size(), 2);
  EXPECT_EQ(plan.events[1].caller, "billing");
  EXPECT_EQ(plan.events[1].recipient_index, "index-bytes");
  EXPECT_EQ(plan.events[1].recipient_country_code, "1");
  EXPECT_EQ(plan.events[1].recipient_last4, "0100");
}

TEST(IngestPlanTest, InboundMessageGetsItsOwnDataKey) {
  IngestItem inbound{
      .entry = EventLogEntry{
          .event_key = "twilio:sid:SMin:received:0",
          .kind = "inbound_message",
          .personal = SealedRecord{.owner = "audit_events/twilio:sid:SMin:received:0",
                                   .wrapped_key = {.kek_version = 1, .sealed = "k"},
                                   .ciphertext = {{"personal_ciphertext", "sealed"}}}}};
  const IngestPlan plan = PlanIngest({inbound}, {}, {});
  ASSERT_EQ(plan.data_keys.size(), 1);
  EXPECT_EQ(plan.data_keys[0].first, "audit_events/twilio:sid:SMin:received:0");
  EXPECT_TRUE(PlanIngest({inbound}, {}, {"twilio:sid:SMin:received:0"}).data_keys.empty());
}

TEST(IngestPlanTest, EveryStatusAnAlertMovesToIsAChangeForItsCaller) {
  IngestItem failed = Outcome(klaxon::types::v1::ALERT_STATUS_UNDELIVERED, 3, "message_status");
  failed.event->twilio_error_code = 30003;
  failed.event->reason = "Twilio 30003: unreachable destination handset";
  const std::vector<IngestItem> batch = {Requested(), Outcome(ALERT_STATUS_SENT, 1, "accepted"),
                                         Outcome(ALERT_STATUS_SENT, 2, "message_status"), failed};
  const IngestPlan plan = PlanIngest(batch, {}, {});

  ASSERT_EQ(plan.status_changes.size(), 3u);  // the second SENT changes nothing
  EXPECT_EQ(plan.status_changes[0].status, ALERT_STATUS_QUEUED);
  EXPECT_EQ(plan.status_changes[1].status, ALERT_STATUS_SENT);
  EXPECT_EQ(plan.status_changes[1].occurred_at, kT0 + absl::Seconds(1));
  const StatusChange& last = plan.status_changes[2];
  EXPECT_EQ(last.alert_id, kAlertId);
  EXPECT_EQ(last.caller, "billing");
  EXPECT_EQ(last.channel, klaxon::types::v1::CHANNEL_SMS);
  EXPECT_EQ(last.status, klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
  EXPECT_EQ(last.attempt, 1u);
  EXPECT_EQ(last.twilio_error_code, 30003);
  EXPECT_EQ(last.reason, "Twilio 30003: unreachable destination handset");
  EXPECT_EQ(last.occurred_at, kT0 + absl::Seconds(3));
}

TEST(IngestPlanTest, AChangeCarriesTheAlertsOwnCallbackUrl) {
  IngestItem requested = Requested();
  requested.event->callback_url = "https://hooks.example.com/db-1";
  const AlertRecord stored = PlanIngest({requested}, {}, {}).alerts.at(kAlertId);
  EXPECT_EQ(stored.callback_url, "https://hooks.example.com/db-1");

  const IngestPlan later =
      PlanIngest({Outcome(ALERT_STATUS_SENT, 1, "accepted")}, {{kAlertId, stored}}, {});
  ASSERT_EQ(later.status_changes.size(), 1u);
  EXPECT_EQ(later.status_changes[0].callback_url, "https://hooks.example.com/db-1");
}

TEST(IngestPlanTest, DuplicatesAndStaleEventsAreNoChange) {
  const IngestItem accepted = Outcome(ALERT_STATUS_SENT, 1, "accepted");
  const AlertRecord stored = PlanIngest({Requested(), accepted}, {}, {}).alerts.at(kAlertId);
  const IngestPlan plan = PlanIngest({accepted, Outcome(ALERT_STATUS_QUEUED, 2, "requeued")},
                                     {{kAlertId, stored}}, {accepted.entry.event_key});
  EXPECT_THAT(plan.status_changes, ::testing::IsEmpty());
}

TEST(IngestPlanTest, AnAlertWhoseRequestComesLateIsAChangeOnceItsCallerIsKnown) {
  IngestItem callback = Outcome(ALERT_STATUS_DELIVERED, 4, "message_status");
  callback.event->caller.clear();  // a Twilio callback does not know its caller
  const AlertRecord stored = PlanIngest({callback}, {}, {}).alerts.at(kAlertId);
  ASSERT_TRUE(stored.caller.empty());
  EXPECT_THAT(PlanIngest({callback}, {}, {}).status_changes, ::testing::IsEmpty());

  const IngestPlan plan = PlanIngest({Requested()}, {{kAlertId, stored}}, {});
  ASSERT_EQ(plan.status_changes.size(), 1u);
  EXPECT_EQ(plan.status_changes[0].caller, "billing");
  EXPECT_EQ(plan.status_changes[0].status, ALERT_STATUS_DELIVERED);
  // When and by which attempt it was delivered, not when the request was made.
  EXPECT_EQ(plan.status_changes[0].occurred_at, kT0 + absl::Seconds(4));
  EXPECT_EQ(plan.status_changes[0].attempt, 1u);
}

}  // namespace
}  // namespace klaxon::audit::ingest_plan_test
