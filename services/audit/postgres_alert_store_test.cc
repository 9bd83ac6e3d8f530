// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
#include "services/audit/postgres_alert_store.h"

#include <algorithm>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "common/log/log.h"
#include "common/pg/conninfo.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/audit_migrations.h"
#include "services/audit/projection.h"
#include "tests/support/support.h"

namespace klaxon::audit {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_FAILED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;

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

ConsumedOffset At(int64_t next_offset) {
  return {.topic = "klaxon.sms.requests", .partition = 0, .next_offset = next_offset};
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

ConsumedOffset TwilioAt(int64_t next_offset) {
  return {.topic = "klaxon.twilio.events", .partition = 0, .next_offset = next_offset};
}

class PostgresAlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
    if (server.empty()) return;
    absl::StatusOr<std::unique_ptr<pg::testing::TemporaryDatabase>> scratch =
        pg::testing::TemporaryDatabase::Create(server);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    absl::StatusOr<std::unique_ptr<pg::Database>> db = pg::Database::Connect(scratch_->url());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    absl::StatusOr<std::vector<int64_t>> applied = pg::ApplyMigrations(*db_, AuditMigrations());
    ASSERT_TRUE(applied.ok()) << applied.status();
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

  bool Record(const ConsentChange& change, int64_t next_offset) {
    absl::StatusOr<bool> changed = store_->RecordConsent(change, TwilioAt(next_offset));
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
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(*alert, ApplyEvent(std::nullopt, Requested()));
  EXPECT_EQ(alert->created_at, kT0);
  EXPECT_EQ(Progress(), 1);
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
    ASSERT_TRUE(store_->Apply(events[i], At(static_cast<int64_t>(i) + 1)).ok());
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
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
  ASSERT_TRUE(store_
                  ->Apply(Outcome(klaxon::types::v1::ALERT_STATUS_WAITING, absl::Seconds(1), "", 0,
                                  "sender pacing"),
                          At(2))
                  .ok());
  ASSERT_TRUE(store_
                  ->Apply(Outcome(klaxon::types::v1::ALERT_STATUS_WAITING, absl::Seconds(2), "", 0,
                                  "recipient limit"),
                          At(3))
                  .ok());
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->reason, "recipient limit");
  EXPECT_EQ(alert->status_at, kT0 + absl::Seconds(2));
}

TEST_F(PostgresAlertStoreTest, AlertOfAnotherCallerIsAbsent) {
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
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
    ASSERT_TRUE(store_->Apply(events[i], At(static_cast<int64_t>(i) + 1)).ok());
  }
  std::optional<AlertRecord> alert = Get();
  ASSERT_TRUE(alert.has_value());
  EXPECT_EQ(alert->status, ALERT_STATUS_SENT);
  EXPECT_EQ(alert->recipient_last4, "0100");
  EXPECT_EQ(*alert, ApplyEvent(ApplyEvent(std::nullopt, events[0]), events[1]));
}

TEST_F(PostgresAlertStoreTest, LateSentAfterDeliveredChangesNothingButAdvancesProgress) {
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
  ASSERT_TRUE(store_->Apply(Outcome(ALERT_STATUS_DELIVERED, absl::Seconds(3)), At(2)).ok());
  const std::optional<AlertRecord> delivered = Get();
  ASSERT_TRUE(store_->Apply(Outcome(ALERT_STATUS_SENT, absl::Seconds(1), "SM9"), At(3)).ok());
  EXPECT_EQ(Get(), delivered);
  EXPECT_EQ(Progress(), 3);
}

TEST_F(PostgresAlertStoreTest, FailedOutcomeKeepsCodeAndReason) {
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
  ASSERT_TRUE(
      store_
          ->Apply(Outcome(ALERT_STATUS_FAILED, absl::Seconds(1), "", 21211, "invalid number"),
                  At(2))
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
  ASSERT_TRUE(store_->RecordProgress(At(10)).ok());
  ASSERT_TRUE(store_->RecordProgress(At(4)).ok());
  EXPECT_EQ(Progress(), 10);
}

TEST_F(PostgresAlertStoreTest, RejectedWriteLeavesProgressUntouched) {
  AlertEvent bad = Requested();
  bad.channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;  // violates the channel CHECK
  absl::Status status = store_->Apply(bad, At(7)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(Progress(), 0);
  EXPECT_FALSE(Get().has_value());
}

TEST_F(PostgresAlertStoreTest, StopThenStartKeepsStart) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 1));
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(2)), 2));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/false, absl::Seconds(2))});
}

TEST_F(PostgresAlertStoreTest, StartConsumedBeforeAnOlderStopKeepsStart) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(2)), 1));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 2));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/false, absl::Seconds(2))});
}

TEST_F(PostgresAlertStoreTest, DuplicateConsentChangeIsIdempotent) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 1));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 1));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/true, absl::Seconds(1))});
}

TEST_F(PostgresAlertStoreTest, SimultaneousStopAndStartKeepStopWhicheverCameFirst) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/false, absl::Seconds(1)), 1));
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 2));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/false, absl::Seconds(1)), 3));
  EXPECT_EQ(ConsentRows(), std::vector{Consent(/*opted_out=*/true, absl::Seconds(1))});
}

TEST_F(PostgresAlertStoreTest, RecordedConsentAdvancesProgress) {
  EXPECT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 5));
  EXPECT_FALSE(Record(Consent(/*opted_out=*/true, absl::Seconds(0)), 6));
  absl::StatusOr<int64_t> next = store_->NextOffset("klaxon.twilio.events", 0);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 6);
}

TEST_F(PostgresAlertStoreTest, ConsentTableHoldsNoPlaintextNumber) {
  ASSERT_TRUE(Record(Consent(/*opted_out=*/true, absl::Seconds(1)), 1));
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
  absl::Status status = store_->RecordConsent(plaintext, TwilioAt(1)).status();
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
        absl::Status status = store_->Apply(event, At(1)).status();
        if (!status.ok()) results[w] = status;
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(Get(), expected);
}

TEST_F(PostgresAlertStoreTest, DatabaseGoneIsUnavailable) {
  ASSERT_TRUE(store_->Apply(Requested(), At(1)).ok());
  {
    // Drop the database under the store, closing its connections, like a failed-over server.
    absl::StatusOr<std::string> admin_url =
        pg::WithDatabaseName(klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL"), "postgres");
    ASSERT_TRUE(admin_url.ok()) << admin_url.status();
    pqxx::connection admin(*admin_url);
    pqxx::nontransaction txn(admin);
    txn.exec("DROP DATABASE " + txn.quote_name(scratch_->name()) + " WITH (FORCE)");
  }
  absl::Status status = store_->Apply(Outcome(ALERT_STATUS_SENT, absl::Seconds(1)), At(2)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(store_->GetAlert("billing", kAlertId).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::audit
