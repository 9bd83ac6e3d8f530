// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
#include "services/audit/postgres/postgres_alert_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/messaging/testing/handle_and_wait.h"
#include "common/pg/conninfo.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"
#include "pqxx/pqxx"
#include "prometheus/registry.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/ingest/projection.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/query/alert_reader.h"
#include "services/audit/testing/audit_keys.h"
#include "services/audit/testing/fake_offset_oracle.h"
#include "services/audit/testing/ingest.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit::postgres_alert_store_test {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_FAILED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using klaxon::types::v1::ALERT_STATUS_WAITING;
using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'123'456);

AlertEvent Requested() {
  return {.kind = AlertEvent::Kind::kRequested,
          .alert_id = kAlertId,
          .caller = "billing",
          .channel = klaxon::types::v1::CHANNEL_SMS,
          .attempt = 1,
          .occurred_at = kT0,
          .status = ALERT_STATUS_QUEUED,
          .recipient_country_code = "1",
          .recipient_last4 = "0100",
          .twilio_sid = "",
          .twilio_error_code = 0,
          .reason = ""};
}

AlertEvent Outcome(AlertStatus status, absl::Duration after, std::string sid = "SM1",
                   int32_t code = 0, std::string reason = "") {
  AlertEvent event = Requested();
  event.kind = AlertEvent::Kind::kOutcome;
  event.status = status;
  event.occurred_at = kT0 + after;
  event.recipient_country_code.clear();
  event.recipient_last4.clear();
  event.twilio_sid = std::move(sid);
  event.twilio_error_code = code;
  event.reason = std::move(reason);
  return event;
}

constexpr char kRecipient[] = "+14155550100";

// An opt-out (STOP) or opt-in (START) of kRecipient, received `after` kT0, as the decoder makes it.
ConsentChange Consent(bool opted_out, absl::Duration after) {
  const log::PhoneRedactor redactor = log::PhoneRedactor::Create("opt-outs-test-key").value();
  const nlohmann::json redacted = redactor.Redact(kRecipient);
  return {.recipient_token = redacted.at("token").get<std::string>(),
          .country_code = redacted.at("cc").get<std::string>(),
          .last4 = redacted.at("last4").get<std::string>(),
          .opted_out = opted_out,
          .keyword = opted_out ? "STOP" : "START",
          .changed_at = kT0 + after};
}

class PostgresAlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    store_ = std::make_unique<PostgresAlertStore>(*db_);
  }

  std::optional<AlertRecord> Get(const std::string& caller = "billing") {
    absl::StatusOr<std::optional<AlertRecord>> alert = store_->GetAlert(caller, kAlertId);
    EXPECT_TRUE(alert.ok()) << alert.status();
    return alert.ok() ? *alert : std::nullopt;
  }

  int64_t Progress() {
    absl::StatusOr<int64_t> next = store_->NextOffset("klaxon.sms.requests", 0);
    EXPECT_TRUE(next.ok()) << next.status();
    return next.value_or(-1);
  }

  bool Record(const ConsentChange& change) {
    absl::StatusOr<bool> changed = testing::RecordConsent(*store_, change);
    EXPECT_TRUE(changed.ok()) << changed.status();
    return changed.value_or(false);
  }

  // Every opt_outs row as the store wrote it.
  std::vector<ConsentChange> ConsentRows() {
    std::vector<ConsentChange> rows;
    absl::Status read = db_->Transact([&](pqxx::work& txn) {
      for (const pqxx::row row :
           txn.exec("SELECT recipient_token, country_code, last4, opted_out, keyword, "
                    "  (extract(epoch FROM changed_at) * 1000000)::bigint FROM opt_outs")) {
        rows.push_back({.recipient_token = row[0].as<std::string>(),
                        .country_code = row[1].as<std::string>(),
                        .last4 = row[2].as<std::string>(),
                        .opted_out = row[3].as<bool>(),
                        .keyword = row[4].as<std::string>(),
                        .changed_at = absl::FromUnixMicros(row[5].as<int64_t>())});
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return rows;
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresAlertStore> store_;
};

TEST_F(PostgresAlertStoreTest, MigrationsAreAlreadyApplied) {
  absl::StatusOr<std::vector<int64_t>> again = pg::ApplyMigrations(*db_, AuditMigrations());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());
}

TEST_F(PostgresAlertStoreTest, AppliedRequestReadsBackExactlyAsProjected) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(*alert, ApplyEvent(std::nullopt, Requested()));
  EXPECT_EQ(alert->created_at, kT0);
}

// Every delivery-engine status the new constraints allow, with the channel of each attempt and
// an alert whose first event moved only an attempt (status 0), reads back as projected.
TEST_F(PostgresAlertStoreTest, DeliveryEngineHistoryReadsBackExactlyAsProjected) {
  AlertEvent requested = Requested();
  requested.channel = klaxon::types::v1::CHANNEL_VOICE;
  AlertEvent call_callback = Outcome(ALERT_STATUS_SENT, absl::Seconds(1), "CA1");
  call_callback.caller = "";
  call_callback.channel = klaxon::types::v1::CHANNEL_VOICE;
  call_callback.alert_status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  AlertEvent waiting =
      Outcome(klaxon::types::v1::ALERT_STATUS_WAITING, absl::Seconds(2), "", 0, "pacing");
  waiting.attempt = 2;
  AlertEvent fallback_sms = Outcome(ALERT_STATUS_SENT, absl::Seconds(3), "SM2");
  fallback_sms.attempt = 3;
  AlertEvent acknowledged =
      Outcome(klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED, absl::Seconds(4), "CA1");
  acknowledged.channel = klaxon::types::v1::CHANNEL_VOICE;
  const std::vector<AlertEvent> events = {call_callback, requested, waiting, fallback_sms,
                                          acknowledged};
  std::optional<AlertRecord> expected;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(testing::Apply(*store_, events[i]).ok());
    expected = ApplyEvent(expected, events[i]);
    if (i == 0) {
      // Not the caller's yet (a callback does not know it): read it as nobody's.
      absl::StatusOr<std::optional<AlertRecord>> nobodys = store_->GetAlert("", kAlertId);
      ASSERT_TRUE(nobodys.ok()) << nobodys.status();
      ASSERT_TRUE(nobodys->has_value());
      EXPECT_EQ((*nobodys)->status, klaxon::types::v1::ALERT_STATUS_UNSPECIFIED);
    }
  }
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(*alert, *expected);
  EXPECT_EQ(alert->status, klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED);
  ASSERT_EQ(alert->attempts.size(), 3u);
  EXPECT_EQ(alert->attempts[0].channel, klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(alert->attempts[1].status, klaxon::types::v1::ALERT_STATUS_WAITING);
  EXPECT_EQ(alert->attempts[2].channel, klaxon::types::v1::CHANNEL_SMS);
}

TEST_F(PostgresAlertStoreTest, NewerWaitingReasonReplacesTheOlderOne) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(klaxon::types::v1::ALERT_STATUS_WAITING,
                                              absl::Seconds(1), "", 0, "sender pacing"))
                  .ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(klaxon::types::v1::ALERT_STATUS_WAITING,
                                              absl::Seconds(2), "", 0, "recipient limit"))
                  .ok());
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->reason, "recipient limit");
  EXPECT_EQ(alert->status_at, kT0 + absl::Seconds(2));
}

TEST_F(PostgresAlertStoreTest, AlertOfAnotherCallerIsAbsent) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  EXPECT_FALSE(Get("payments").has_value());
}

TEST_F(PostgresAlertStoreTest, UnknownAlertIsAbsentAndProgressStartsAtZero) {
  EXPECT_FALSE(Get().has_value());
  EXPECT_EQ(Progress(), 0);
}

TEST_F(PostgresAlertStoreTest, OutcomeBeforeRequestConvergesToProjection) {
  const std::vector<AlertEvent> events = {Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
                                          Requested()};
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(testing::Apply(*store_, events[i]).ok());
  }
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->status, ALERT_STATUS_SENT);
  EXPECT_EQ(alert->recipient_last4, "0100");
  EXPECT_EQ(*alert, ApplyEvent(ApplyEvent(std::nullopt, events[0]), events[1]));
}

TEST_F(PostgresAlertStoreTest, LateSentAfterDeliveredChangesNothing) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(3))).ok());
  const std::optional<AlertRecord> delivered = Get();
  ASSERT_TRUE(testing::Apply(*store_, Outcome(ALERT_STATUS_SENT, absl::Seconds(1), "SM9")).ok());
  EXPECT_EQ(Get(), delivered);
}

TEST_F(PostgresAlertStoreTest, FailedOutcomeKeepsCodeAndReason) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 21211,
                                              "invalid number"))
                  .ok());
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->status, ALERT_STATUS_FAILED);
  EXPECT_EQ(alert->twilio_error_code, 21211);
  EXPECT_EQ(alert->reason, "invalid number");
  ASSERT_EQ(alert->attempts.size(), 1u);
  EXPECT_EQ(alert->attempts[0].status, ALERT_STATUS_FAILED);
}

TEST_F(PostgresAlertStoreTest, ProgressNeverMovesBackwards) {
  const auto advance_to = [&](int64_t next_offset) {
    return store_->AdvanceProgress(
        {{.topic = "klaxon.sms.requests", .partition = 0, .next_offset = next_offset},
         {.topic = "klaxon.voice.requests", .partition = 3, .next_offset = next_offset + 1}});
  };
  ASSERT_TRUE(advance_to(10).ok());
  ASSERT_TRUE(advance_to(4).ok());
  EXPECT_EQ(Progress(), 10);
  EXPECT_EQ(*store_->NextOffset("klaxon.voice.requests", 3), 11);
  EXPECT_EQ(*store_->NextOffset("klaxon.voice.requests", 0), 0);
}

TEST_F(PostgresAlertStoreTest, RejectedWriteStoresNothing) {
  AlertEvent bad = Requested();
  bad.channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;  // violates the channel CHECK
  absl::Status status = testing::Apply(*store_, bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_FALSE(Get().has_value());
}

TEST_F(PostgresAlertStoreTest, StopThenStartKeepsStart) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(2))));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/false, absl::Seconds(2))});
}

TEST_F(PostgresAlertStoreTest, StartConsumedBeforeAnOlderStopKeepsStart) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(2))));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/false, absl::Seconds(2))});
}

TEST_F(PostgresAlertStoreTest, DuplicateConsentChangeIsIdempotent) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/true, absl::Seconds(1))});
}

TEST_F(PostgresAlertStoreTest, SimultaneousStopAndStartKeepStopWhicheverCameFirst) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(1))));
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/false, absl::Seconds(1))));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/true, absl::Seconds(1))});
}

TEST_F(PostgresAlertStoreTest, ConsentTableHoldsNoPlaintextNumber) {
  ASSERT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1))));
  std::string table;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   for (const pqxx::row row : txn.exec("SELECT t::text FROM opt_outs t")) {
                     table += row[0].as<std::string>();
                   }
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_THAT(table, ::testing::HasSubstr("0100"));
  EXPECT_THAT(table, ::testing::Not(::testing::HasSubstr("4155550100")));
}

TEST_F(PostgresAlertStoreTest, NumberInPlaceOfTheTokenIsRejected) {
  ConsentChange plaintext = Consent(/*opted_out=*/true, absl::Seconds(1));
  plaintext.recipient_token = kRecipient;
  absl::Status status = testing::RecordConsent(*store_, plaintext).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(ConsentRows().empty());
}

TEST_F(PostgresAlertStoreTest, ConcurrentWritersOfOneAlertConverge) {
  const std::vector<AlertEvent> history = {Requested(),
                                           Outcome(ALERT_STATUS_SENT, absl::Seconds(1)),
                                           Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4))};
  AlertRecord expected = ApplyEvent(std::nullopt, history[0]);
  expected = ApplyEvent(expected, history[1]);
  expected = ApplyEvent(expected, history[2]);
  std::vector<std::thread> writers;
  std::vector<absl::Status> results(4);
  for (size_t w = 0; w < results.size(); ++w) {
    writers.emplace_back([&, w] {
      std::vector<AlertEvent> events = history;
      std::shuffle(events.begin(), events.end(), std::mt19937(static_cast<uint32_t>(w)));
      for (const AlertEvent& event : events) {
        absl::Status status = testing::Apply(*store_, event).status();
        if (!status.ok()) results[w] = status;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(Get(), expected);
}

// A page of the escalation chain kAlertId stands for (ADR 0029): kAlertId itself is its first.
AlertEvent ChainPage(const std::string& alert_id, uint32_t step, absl::Duration after,
                     const std::string& caller = "billing") {
  AlertEvent event = Requested();
  event.alert_id = alert_id;
  event.caller = caller;
  event.occurred_at = kT0 + after;
  event.escalation_id = kAlertId;
  event.escalation_step = step;
  return event;
}

constexpr char kSecondPageId[] = "0190f1c4-7a3e-7b12-9c4d-0000000000a2";

TEST_F(PostgresAlertStoreTest, EscalationColumnsReadBackExactlyAsProjected) {
  const AlertEvent requested = ChainPage(kAlertId, 1, absl::ZeroDuration());
  ASSERT_TRUE(testing::Apply(*store_, requested).ok());
  const std::optional<AlertRecord> paging = Get();
  ASSERT_TRUE(paging.has_value());
  EXPECT_EQ(*paging, ApplyEvent(std::nullopt, requested));
  EXPECT_EQ(paging->escalation_id, kAlertId);
  EXPECT_EQ(paging->escalation_step, 1u);
  EXPECT_EQ(paging->acknowledged_at, std::nullopt);

  AlertEvent acknowledged = Outcome(klaxon::types::v1::ALERT_STATUS_UNSPECIFIED, absl::Seconds(90),
                                    "", 0, "acknowledged at step 2");
  acknowledged.alert_status = klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
  acknowledged.acknowledged_by = kSecondPageId;
  acknowledged.acknowledged_step = 2;
  ASSERT_TRUE(testing::Apply(*store_, acknowledged).ok());
  const std::optional<AlertRecord> stopped = Get();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, ApplyEvent(paging, acknowledged));
  EXPECT_EQ(stopped->acknowledged_by, kSecondPageId);
  EXPECT_EQ(stopped->acknowledged_step, 2u);
  EXPECT_EQ(stopped->acknowledged_at, kT0 + absl::Seconds(90));
}

TEST_F(PostgresAlertStoreTest, EscalationPagesAreTheCallersChainInPagingOrder) {
  const std::string repeat = "0190f1c4-7a3e-7b12-9c4d-0000000000a3";   // step 1 again
  const std::string third_a = "0190f1c4-7a3e-7b12-9c4d-0000000000a4";  // step 3, two pages
  const std::string third_b = "0190f1c4-7a3e-7b12-9c4d-0000000000a5";  // created together
  IngestItem first = testing::EventItem(ChainPage(kAlertId, 1, absl::ZeroDuration()));
  first.entry.recipient_index = "blind index";
  first.alert_personal = SealedRecord{.owner = absl::StrCat("alerts/", kAlertId),
                                      .wrapped_key = {.kek_version = 1, .sealed = "wrapped"},
                                      .ciphertext = {{"recipient_ciphertext", "sealed number"},
                                                     {"text_ciphertext", "sealed text"}}};
  AlertEvent other_chain = ChainPage("0190f1c4-7a3e-7b12-9c4d-0000000000c1", 1, absl::Seconds(1));
  other_chain.escalation_id = other_chain.alert_id;
  AlertEvent no_chain = Requested();
  no_chain.alert_id = "0190f1c4-7a3e-7b12-9c4d-0000000000d1";
  // Written out of order; the second step's page is created before the first step's repeat, so
  // the step, not the time, must come first.
  ASSERT_TRUE(store_
                  ->Write({testing::EventItem(ChainPage(third_b, 3, absl::Seconds(120))),
                           testing::EventItem(ChainPage(kSecondPageId, 2, absl::Seconds(30))),
                           testing::EventItem(ChainPage("0190f1c4-7a3e-7b12-9c4d-0000000000b2", 2,
                                                        absl::Seconds(30), "payments")),
                           testing::EventItem(ChainPage(repeat, 1, absl::Seconds(60))),
                           testing::EventItem(other_chain), testing::EventItem(no_chain),
                           testing::EventItem(ChainPage(third_a, 3, absl::Seconds(120))), first})
                  .ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(ALERT_STATUS_SENT, absl::Seconds(2))).ok());

  absl::StatusOr<std::vector<AlertRecord>> pages = store_->EscalationPages("billing", kAlertId);
  ASSERT_TRUE(pages.ok()) << pages.status();
  std::vector<std::string> ids;
  for (const AlertRecord& page : *pages) ids.push_back(page.alert_id);
  EXPECT_THAT(ids, ::testing::ElementsAre(kAlertId, repeat, kSecondPageId, third_a, third_b));
  // Each read like GetAlert reads it: attempts, sealed fields and data key.
  for (const AlertRecord& page : *pages) {
    absl::StatusOr<std::optional<AlertRecord>> alert = store_->GetAlert("billing", page.alert_id);
    ASSERT_TRUE(alert.ok() && alert->has_value()) << page.alert_id;
    EXPECT_EQ(page, **alert) << page.alert_id;
  }
  ASSERT_FALSE(pages->empty());
  EXPECT_EQ(pages->front().attempts.size(), 1u);
  EXPECT_EQ(pages->front().attempts[0].status, ALERT_STATUS_SENT);
  EXPECT_EQ(pages->front().recipient_ciphertext, "sealed number");
  EXPECT_EQ(pages->front().data_key, (crypto::WrappedKey{.kek_version = 1, .sealed = "wrapped"}));
}

TEST_F(PostgresAlertStoreTest, EscalationPagesOfAnotherCallersChainAreNone) {
  ASSERT_TRUE(testing::Apply(*store_, ChainPage(kAlertId, 1, absl::ZeroDuration())).ok());
  absl::StatusOr<std::vector<AlertRecord>> pages = store_->EscalationPages("payments", kAlertId);
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_TRUE(pages->empty());
}

// '' is every unchained alert's escalation_id: it names no chain.
TEST_F(PostgresAlertStoreTest, EscalationPagesOfNoChainAreNone) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  absl::StatusOr<std::vector<AlertRecord>> pages = store_->EscalationPages("billing", "");
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_TRUE(pages->empty());
}

TEST_F(PostgresAlertStoreTest, TemplateColumnsReadBackExactlyAsProjected) {
  AlertEvent requested = Requested();
  requested.template_name = "disk-full";
  requested.template_locale = "es-419";
  requested.template_version = 12;
  ASSERT_TRUE(testing::Apply(*store_, requested).ok());
  ASSERT_TRUE(testing::Apply(*store_, Outcome(ALERT_STATUS_SENT, absl::Seconds(1))).ok());
  const std::optional<AlertRecord> stored = Get();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, ApplyEvent(ApplyEvent(std::nullopt, requested),
                                Outcome(ALERT_STATUS_SENT, absl::Seconds(1))));
  EXPECT_EQ(stored->template_name, "disk-full");
  EXPECT_EQ(stored->template_locale, "es-419");
  EXPECT_EQ(stored->template_version, 12u);
}

TEST_F(PostgresAlertStoreTest, AChargeReadsBackExactlyAsProjectedAndTheFirstIsKept) {
  AlertEvent charged = Outcome(klaxon::types::v1::ALERT_STATUS_UNSPECIFIED, absl::Seconds(30));
  charged.charge = ChargeRecord{.micros = 15'800,
                                .currency = "USD",
                                .segments = 2,
                                .duration_seconds = 0,
                                .twilio_account = "main"};
  AlertEvent again = charged;
  again.charge->micros = 99'000;
  again.occurred_at += absl::Minutes(1);
  // The charge consumed before the attempt's final status, as audit may when behind on a topic.
  const std::vector<AlertEvent> events = {Requested(), charged,
                                          Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(4)), again};
  std::optional<AlertRecord> expected;
  for (const AlertEvent& event : events) {
    ASSERT_TRUE(testing::Apply(*store_, event).ok());
    expected = ApplyEvent(expected, event);
  }
  const std::optional<AlertRecord> stored = Get();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, *expected);
  ASSERT_EQ(stored->attempts.size(), 1u);
  EXPECT_EQ(stored->attempts[0].status, ALERT_STATUS_DELIVERED);
  ASSERT_TRUE(stored->attempts[0].charge.has_value());
  EXPECT_EQ(stored->attempts[0].charge->micros, 15'800);
  EXPECT_EQ(stored->attempts[0].charge->twilio_account, "main");
}

TEST_F(PostgresAlertStoreTest, DatabaseGoneIsUnavailable) {
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  ASSERT_TRUE(scratch_->Drop().ok());
  absl::Status status =
      testing::Apply(*store_, Outcome(ALERT_STATUS_SENT, absl::Seconds(1))).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(store_->GetAlert("billing", kAlertId).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->EscalationPages("billing", kAlertId).status().code(),
            absl::StatusCode::kUnavailable);
}

// The write path as audit runs it: AuditEventHandler sealing into a BatchWriter over this store,
// and AlertReader opening what it wrote.
class PostgresWritePathTest : public PostgresAlertStoreTest {
 protected:
  static constexpr char kOtherAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6e";
  static constexpr char kText[] = "db-7 disk full, page Ana";

  void SetUp() override {
    PostgresAlertStoreTest::SetUp();
    if (store_ == nullptr) return;
    writer_ = std::make_unique<BatchWriter>(*store_, BatchWriterOptions{});
    handler_ = std::make_unique<AuditEventHandler>(*writer_, sealing_.personal_data,
                                                   sealing_.blind_index, topics_, metrics_, clock_,
                                                   logger_, redactor_, sealing_.transit.cipher());
    reader_ =
        std::make_unique<AlertReader>(*store_, oracle_, sealing_.personal_data, clock_, metrics_,
                                      logger_, AlertReaderOptions{.topics = topics_});
  }

  void Request(const std::string& alert_id, int64_t offset, uint32_t attempt = 1) {
    klaxon::events::v1::AlertRequested request;
    request.mutable_header()->set_alert_id(alert_id);
    request.mutable_header()->set_caller("billing");
    request.mutable_header()->set_channel(klaxon::types::v1::CHANNEL_SMS);
    request.mutable_header()->set_attempt(attempt);
    request.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'000);
    sealing_.transit.Seal(request, kRecipient, kText);
    ASSERT_TRUE(messaging::testing::HandleAndWait(*handler_, {.topic = topics_.sms_requests,
                                                              .partition = 0,
                                                              .offset = offset,
                                                              .key = alert_id,
                                                              .value = request.SerializeAsString()})
                    .ok());
  }

  absl::StatusOr<AlertView> Read(const std::string& alert_id = kAlertId) {
    return reader_->GetAlert("billing", alert_id, absl::InfiniteFuture());
  }

  void Exec(const std::string& sql) {
    absl::Status done = db_->Transact([&](pqxx::work& txn) {
      txn.exec(sql);
      return absl::OkStatus();
    });
    ASSERT_TRUE(done.ok()) << done;
  }

  int64_t Count(const std::string& sql) {
    int64_t count = -1;
    absl::Status done = db_->Transact([&](pqxx::work& txn) {
      count = txn.exec(sql)[0][0].as<int64_t>();
      return absl::OkStatus();
    });
    EXPECT_TRUE(done.ok()) << done;
    return count;
  }

  // Every byte the audit tables hold: each row as text, and each bytea column raw.
  std::string EverythingStored() {
    std::string stored;
    absl::Status done = db_->Transact([&](pqxx::work& txn) {
      for (const char* table : {"alerts", "attempts", "audit_events", "data_keys", "opt_outs"}) {
        for (const pqxx::row row : txn.exec(absl::StrCat("SELECT t::text FROM ", table, " t"))) {
          stored += row[0].as<std::string>();
        }
      }
      for (const char* column : {"alerts.recipient_index", "alerts.recipient_ciphertext",
                                 "alerts.text_ciphertext", "audit_events.recipient_index",
                                 "audit_events.personal_ciphertext", "data_keys.wrapped_key"}) {
        const std::string name(column);
        const size_t dot = name.find('.');
        for (const pqxx::row row : txn.exec(absl::StrCat(
                 "SELECT encode(", name.substr(dot + 1), ", 'hex') FROM ", name.substr(0, dot),
                 " WHERE ", name.substr(dot + 1), " IS NOT NULL"))) {
          stored += absl::HexStringToBytes(row[0].as<std::string>());
        }
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(done.ok()) << done;
    return stored;
  }

  Topics topics_ = Topics::WithPrefix("");
  testing::AuditKeys sealing_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("postgres-store-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  FakeOffsetOracle oracle_;
  std::unique_ptr<BatchWriter> writer_;
  std::unique_ptr<AuditEventHandler> handler_;
  std::unique_ptr<AlertReader> reader_;
};

TEST_F(PostgresWritePathTest, GetAlertOpensRecipientAndText) {
  Request(kAlertId, 0);
  absl::StatusOr<AlertView> alert = Read();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->recipient, kRecipient);
  EXPECT_EQ(alert->text, kText);
  EXPECT_FALSE(alert->personal_data_shredded);
  EXPECT_EQ(alert->record.recipient_last4, "0100");
}

TEST_F(PostgresWritePathTest, PersonalColumnsHoldNoPlaintext) {
  Request(kAlertId, 0);
  klaxon::events::v1::TwilioEvent inbound;
  inbound.mutable_header()->mutable_occurred_at()->set_seconds(1'700'000'010);
  inbound.set_dedupe_key("sid:SMin:received:0");
  inbound.mutable_inbound_message()->set_message_sid("SMin");
  sealing_.transit.Seal(*inbound.mutable_inbound_message(), kRecipient, "call Ana on 4155550100");
  ASSERT_TRUE(messaging::testing::HandleAndWait(*handler_, {.topic = topics_.twilio_events,
                                                            .partition = 0,
                                                            .offset = 0,
                                                            .value = inbound.SerializeAsString()})
                  .ok());
  ASSERT_EQ(Count("SELECT count(*) FROM audit_events WHERE personal_ciphertext IS NOT NULL"), 1);
  ASSERT_EQ(Count("SELECT count(*) FROM data_keys"), 2);
  const std::string stored = EverythingStored();
  ASSERT_THAT(stored, HasSubstr("billing"));  // the scan does see the rows
  EXPECT_THAT(stored, ::testing::Not(HasSubstr("4155550100")));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr("disk full")));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr("call Ana")));
}

TEST_F(PostgresWritePathTest, RedeliveredRequestKeepsTheFirstDataKeyAndCiphertext) {
  Request(kAlertId, 0);
  const int64_t keys = Count("SELECT count(*) FROM data_keys");
  const absl::StatusOr<std::optional<AlertRecord>> first = store_->GetAlert("billing", kAlertId);
  Request(kAlertId, 0);
  Request(kAlertId, 1, /*attempt=*/2);
  const absl::StatusOr<std::optional<AlertRecord>> after = store_->GetAlert("billing", kAlertId);
  EXPECT_EQ(Count("SELECT count(*) FROM data_keys"), keys);
  EXPECT_EQ((*after)->recipient_ciphertext, (*first)->recipient_ciphertext);
  EXPECT_EQ((*after)->data_key, (*first)->data_key);
  EXPECT_TRUE(Read().ok());
}

TEST_F(PostgresWritePathTest, FlippedBitInRecipientCiphertextFailsNamingAlertAndColumn) {
  Request(kAlertId, 0);
  Exec(
      "UPDATE alerts SET recipient_ciphertext = "
      "set_byte(recipient_ciphertext, 20, get_byte(recipient_ciphertext, 20) # 1)");
  absl::StatusOr<AlertView> alert = Read();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss) << alert.status();
  EXPECT_THAT(alert.status().message(), HasSubstr(kAlertId));
  EXPECT_THAT(alert.status().message(), HasSubstr("recipient_ciphertext"));
}

TEST_F(PostgresWritePathTest, FlippedBitInWrappedKeyFailsNamingTheAlert) {
  Request(kAlertId, 0);
  Exec("UPDATE data_keys SET wrapped_key = set_byte(wrapped_key, 5, get_byte(wrapped_key, 5) # 1)");
  absl::StatusOr<AlertView> alert = Read();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss) << alert.status();
  EXPECT_THAT(alert.status().message(), HasSubstr(kAlertId));
}

TEST_F(PostgresWritePathTest, CiphertextCopiedFromAnotherAlertFails) {
  Request(kAlertId, 0);
  Request(kOtherAlertId, 1);
  Exec(
      absl::StrCat("UPDATE alerts SET text_ciphertext = (SELECT text_ciphertext FROM alerts "
                   "WHERE alert_id = '",
                   kOtherAlertId, "') WHERE alert_id = '", kAlertId, "'"));
  absl::StatusOr<AlertView> alert = Read();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss) << alert.status();
  EXPECT_THAT(alert.status().message(), HasSubstr("text_ciphertext"));
  EXPECT_TRUE(Read(kOtherAlertId).ok());
}

TEST_F(PostgresWritePathTest, DeletedDataKeyIsShredded) {
  Request(kAlertId, 0);
  Exec(absl::StrCat("DELETE FROM data_keys WHERE owner = 'alerts/", kAlertId, "'"));
  absl::StatusOr<AlertView> alert = Read();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_TRUE(alert->personal_data_shredded);
  EXPECT_EQ(alert->recipient, "");
  EXPECT_EQ(alert->text, "");
  // A redelivered request does not bring the shredded data back.
  Request(kAlertId, 0, /*attempt=*/3);
  EXPECT_TRUE(Read()->personal_data_shredded);
}

// One delivery outcome of kAlertId (or `alert_id`) as the decoder keys it.
IngestItem OutcomeItem(const std::string& alert_id, AlertStatus status, int n, bool retry) {
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome,
                   .alert_id = alert_id,
                   .caller = "billing",
                   .channel = klaxon::types::v1::CHANNEL_SMS,
                   .attempt = static_cast<uint32_t>(std::min(n, 6)),  // one retry per attempt
                   .occurred_at = kT0 + absl::Seconds(n),
                   .status = status,
                   .event_key = absl::StrCat("outcome:", alert_id, ":", n),
                   .log_kind = retry ? "retry_scheduled" : "accepted",
                   .counts_retry = retry};
  if (retry) event.alert_status = klaxon::types::v1::ALERT_STATUS_WAITING;
  return testing::EventItem(std::move(event));
}

TEST_F(PostgresAlertStoreTest, EventsAreStoredOnceUnderDuplicates) {
  const IngestItem sent = OutcomeItem(kAlertId, ALERT_STATUS_SENT, 1, false);
  ASSERT_TRUE(store_->Write({sent, sent}).ok());
  absl::StatusOr<std::vector<IngestResult>> again = store_->Write({sent});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->front().duplicate);
  int64_t rows = 0;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   rows = txn.exec("SELECT count(*) FROM audit_events")[0][0].as<int64_t>();
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(rows, 1);
}

TEST_F(PostgresAlertStoreTest, CopyStampedHoursLaterIsStillTheSameEvent) {
  // Two ingress replicas can stamp one Twilio callback apart; the stored-event lookup is bounded
  // in time (to spare other months' partitions) but must still find the first copy.
  const IngestItem first = OutcomeItem(kAlertId, ALERT_STATUS_SENT, 1, /*retry=*/true);
  IngestItem later = first;
  later.entry.occurred_at += absl::Hours(20);
  ASSERT_TRUE(store_->Write({first}).ok());
  absl::StatusOr<std::vector<IngestResult>> again = store_->Write({later});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->front().duplicate);
  absl::StatusOr<std::optional<AlertRecord>> stored = store_->GetAlert("billing", kAlertId);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->retry_count, 1u);
}

TEST_F(PostgresAlertStoreTest, BatchIsOneTransaction) {
  IngestItem bad = OutcomeItem(kAlertId, ALERT_STATUS_SENT, 3, false);
  bad.entry.status = static_cast<AlertStatus>(42);  // violates audit_events' CHECK
  absl::Status failed = store_
                            ->Write({testing::EventItem(Requested()),
                                     OutcomeItem(kAlertId, ALERT_STATUS_WAITING, 2, true), bad})
                            .status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition) << failed;
  EXPECT_FALSE(Get().has_value());
  int64_t rows = -1;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   rows = txn.exec(
                                 "SELECT (SELECT count(*) FROM audit_events) + "
                                 "(SELECT count(*) FROM attempts)")[0][0]
                              .as<int64_t>();
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(rows, 0);

  // Without the bad item: everything.
  ASSERT_TRUE(store_
                  ->Write({testing::EventItem(Requested()),
                           OutcomeItem(kAlertId, ALERT_STATUS_WAITING, 2, true),
                           OutcomeItem(kAlertId, ALERT_STATUS_SENT, 3, false)})
                  .ok());
  EXPECT_EQ(Get()->retry_count, 1);
  EXPECT_EQ(Get()->status, ALERT_STATUS_SENT);
}

// Planning the batch statements afresh on every batch cost Postgres more than running them: a
// connection prepares each once and runs every later batch from it.
TEST_F(PostgresAlertStoreTest, BatchStatementsArePreparedOncePerConnection) {
  absl::StatusOr<std::unique_ptr<pg::Database>> one_connection =
      pg::Database::Connect(scratch_->url(), {.max_connections = 1});
  ASSERT_TRUE(one_connection.ok()) << one_connection.status();
  PostgresAlertStore store(**one_connection);
  ASSERT_TRUE(testing::Apply(store, Requested()).ok());
  ASSERT_TRUE(testing::Apply(store, Outcome(ALERT_STATUS_SENT, absl::Seconds(1))).ok());

  std::map<std::string, int64_t> executions;
  ASSERT_TRUE((*one_connection)
                  ->Transact([&](pqxx::work& txn) {
                    for (const pqxx::row row : txn.exec("SELECT name, generic_plans + custom_plans "
                                                        "FROM pg_prepared_statements")) {
                      executions[row[0].as<std::string>()] = row[1].as<int64_t>();
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  for (const char* name : {"klaxon_audit_lock_alerts", "klaxon_audit_select_alerts",
                           "klaxon_audit_select_stored_events", "klaxon_audit_insert_events",
                           "klaxon_audit_upsert_alerts", "klaxon_audit_upsert_attempts"}) {
    EXPECT_EQ(executions[name], 2) << name;
  }
}

TEST_F(PostgresAlertStoreTest, AdvancedAlertIsAnnouncedOnCommit) {
  class Receiver final : public pqxx::notification_receiver {
   public:
    using pqxx::notification_receiver::notification_receiver;
    void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
    std::vector<std::string> payloads;
  };
  pqxx::connection listener(scratch_->url());
  Receiver receiver(listener, "klaxon_alert_status");
  ASSERT_TRUE(testing::Apply(*store_, Requested()).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (receiver.payloads.empty() && absl::Now() < deadline) listener.await_notification(1, 0);
  EXPECT_THAT(receiver.payloads, ::testing::ElementsAre(kAlertId));
}

TEST_F(PostgresAlertStoreTest, EnsureEventPartitionsCreatesTheComingMonths) {
  ASSERT_TRUE(
      store_->EnsureEventPartitions(absl::FromUnixSeconds(1'924'992'000), 2).ok());  // 2031-01
  int64_t partitions = 0;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   partitions = txn.exec(
                                       "SELECT count(*) FROM pg_class WHERE relname IN "
                                       "('audit_events_2031_01', 'audit_events_2031_02', "
                                       "'audit_events_2031_03')")[0][0]
                                    .as<int64_t>();
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(partitions, 3);
}

// Two audit replicas (two stores, each with its own connection pool) write interleaved, partly
// overlapping batches of the same alerts at once: each alert ends with the projection of all its
// events and every retry counted exactly once.
TEST_F(PostgresAlertStoreTest, TwoReplicasWritingTheSameAlertsConverge) {
  absl::StatusOr<std::unique_ptr<pg::Database>> other_db = pg::Database::Connect(scratch_->url());
  ASSERT_TRUE(other_db.ok()) << other_db.status();
  PostgresAlertStore other(**other_db);
  constexpr int kAlerts = 12;
  constexpr int kRetries = 5;
  std::vector<std::string> ids;
  std::vector<IngestItem> events;
  for (int a = 0; a < kAlerts; ++a) {
    ids.push_back(absl::StrFormat("0190f1c4-7a3e-7b12-9c4d-%012x", a));
    AlertEvent requested = Requested();
    requested.alert_id = ids.back();
    requested.event_key = absl::StrCat("requested:", ids.back(), ":1");
    events.push_back(testing::EventItem(requested));
    for (int n = 1; n <= kRetries; ++n) {
      events.push_back(OutcomeItem(ids.back(), ALERT_STATUS_FAILED, n, true));
    }
    events.push_back(OutcomeItem(ids.back(), ALERT_STATUS_SENT, 20, false));
    events.push_back(OutcomeItem(ids.back(), ALERT_STATUS_DELIVERED, 21, false));
  }
  // Each replica gets every other event, and every third event goes to both (a rebalance).
  std::vector<IngestItem> mine, theirs;
  for (size_t i = 0; i < events.size(); ++i) {
    ((i % 2 == 0) ? mine : theirs).push_back(events[i]);
    if (i % 3 == 0) ((i % 2 == 0) ? theirs : mine).push_back(events[i]);
  }
  auto run = [](AlertStore& store, std::vector<IngestItem> items, uint32_t seed) {
    std::shuffle(items.begin(), items.end(), std::mt19937(seed));
    for (size_t i = 0; i < items.size(); i += 7) {
      const std::vector<IngestItem> batch(
          items.begin() + static_cast<long>(i),
          items.begin() + static_cast<long>(std::min(i + 7, items.size())));
      // Not even a deadlock the server would detect and break (kUnavailable): the locks are
      // taken in one order by every writer.
      absl::Status status = store.Write(batch).status();
      EXPECT_TRUE(status.ok()) << status;
    }
  };
  std::thread first(run, std::ref(*store_), mine, 1);
  std::thread second(run, std::ref(other), theirs, 2);
  first.join();
  second.join();
  for (const std::string& id : ids) {
    absl::StatusOr<std::optional<AlertRecord>> alert = store_->GetAlert("billing", id);
    ASSERT_TRUE(alert.ok() && alert->has_value()) << id;
    EXPECT_EQ((*alert)->retry_count, static_cast<uint32_t>(kRetries)) << id;
    EXPECT_EQ((*alert)->status, ALERT_STATUS_DELIVERED) << id;
    std::optional<AlertRecord> expected;
    for (const IngestItem& item : events) {
      if (item.event->alert_id == id) expected = ApplyEvent(expected, *item.event);
    }
    EXPECT_EQ((*alert)->attempts, expected->attempts) << id;
  }
  int64_t rows = 0;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   rows = txn.exec("SELECT count(*) FROM audit_events")[0][0].as<int64_t>();
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(rows, static_cast<int64_t>(events.size()));
}

}  // namespace
}  // namespace klaxon::audit::postgres_alert_store_test
