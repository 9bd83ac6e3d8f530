// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// RunRetention with PostgresRetentionStore on audit's schema, seeded across several months.
#include <memory>
#include <string>
#include <vector>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/admin/retention.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_callback_outbox.h"
#include "services/audit/postgres/postgres_retention.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit::retention_postgres_test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

absl::Time At(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  return time;
}

// The seeded records are "current" as of kSeededAt; the runs move now forward from there.
const absl::Time kSeededAt = At("2025-03-20T12:00:00Z");
constexpr char kOldAlert[] = "0190f1c4-0000-7000-8000-000000000001";     // created 2017
constexpr char kSealedAlert[] = "0190f1c4-0000-7000-8000-000000000002";  // created 2025-03-01
constexpr char kRecentAlert[] = "0190f1c4-0000-7000-8000-000000000003";  // created 2025-06-01

const Fields kPersonal = {{"recipient_ciphertext", "+14155550100"},
                          {"text_ciphertext", "disk full on db-1"}};

class RetentionPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    store_ = std::make_unique<PostgresRetentionStore>(*db_);
    Seed();
  }

  void Exec(const std::string& sql) {
    absl::Status status = db_->Transact([&](pqxx::work& txn) {
      txn.exec(sql);
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status << "\n" << sql;
  }

  int64_t Count(const std::string& sql) {
    int64_t count = -1;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     count = txn.exec1(sql)[0].as<int64_t>();
                     return absl::OkStatus();
                   })
                    .ok())
        << sql;
    return count;
  }

  std::string Text(const std::string& sql) {
    std::string text;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     text = txn.exec1(sql)[0].as<std::string>("NULL");
                     return absl::OkStatus();
                   })
                    .ok())
        << sql;
    return text;
  }

  std::vector<std::string> Partitions() {
    absl::StatusOr<std::vector<std::string>> partitions = store_->ListEventPartitions();
    EXPECT_TRUE(partitions.ok()) << partitions.status();
    return partitions.value_or(std::vector<std::string>{});
  }

  void InsertAlert(const std::string& id, const std::string& created_at) {
    Exec(absl::StrCat(
        "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
        "created_at, updated_at, status_at) VALUES ('",
        id, "', 'billing', 1, 1, 1, true, '", created_at, "', '", created_at, "', '", created_at,
        "')"));
    Exec(
        absl::StrCat("INSERT INTO attempts (alert_id, attempt, status, status_rank, occurred_at) "
                     "VALUES ('",
                     id, "', 1, 1, 1, '", created_at, "')"));
  }

  void InsertEvent(const std::string& key, const std::string& occurred_at) {
    Exec(absl::StrCat("INSERT INTO audit_events (occurred_at, event_key, kind) VALUES ('",
                      occurred_at, "', '", key, "', 'requested')"));
  }

  void InsertDeadLetter(const std::string& id, const std::string& dead_lettered_at) {
    Exec(absl::StrCat(
        "INSERT INTO dead_letters (alert_id, caller, channel, attempt, reason, recipient_index, "
        "recipient_country_code, recipient_last4, request_ciphertext, dead_lettered_at) VALUES ('",
        id, "', 'billing', 1, 1, 'rejected', '\\x00', '1', '0100', '\\x00', '", dead_lettered_at,
        "')"));
  }

  // A caller callback of `alert_id`: finished (delivered) at `finished_at`, or pending when empty.
  void InsertCallback(const std::string& alert_id, int sequence, const std::string& finished_at) {
    Exec(absl::StrCat(
        "INSERT INTO caller_callbacks (alert_id, sequence, caller, channel, status, attempt, "
        "twilio_error_code, reason, occurred_at, stored_at, state, next_attempt_at, finished_at) "
        "VALUES ('",
        alert_id, "', ", sequence,
        ", 'billing', 1, 1, 1, 0, '', '2025-03-01T00:00:00Z', "
        "'2025-03-01T00:00:00Z', ",
        finished_at.empty() ? "0, '2025-03-01T00:00:00Z', NULL"
                            : absl::StrCat("1, 'infinity', '", finished_at, "'"),
        ")"));
  }

  int64_t Callbacks() {
    int64_t count = 0;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     count = txn.exec1("SELECT count(*) FROM caller_callbacks")[0].as<int64_t>();
                     return absl::OkStatus();
                   })
                    .ok());
    return count;
  }

  void Seed() {
    // Months of 2025 and the default partition (nothing covers December 2024).
    for (const char* month : {"2025-01-01", "2025-02-01", "2025-03-01"}) {
      Exec(absl::StrCat("SELECT audit_events_ensure_partition('", month, "')"));
    }
    InsertEvent("jan-1", "2025-01-10T00:00:00Z");
    InsertEvent("jan-2", "2025-01-31T23:59:59Z");
    InsertEvent("feb-1", "2025-02-14T00:00:00Z");
    InsertEvent("mar-1", "2025-03-15T00:00:00Z");
    InsertEvent("dec-default", "2024-12-05T00:00:00Z");

    InsertAlert(kOldAlert, "2017-01-01T00:00:00Z");
    InsertAlert(kSealedAlert, "2025-03-01T00:00:00Z");
    InsertAlert(kRecentAlert, "2025-06-01T00:00:00Z");
    // kSealedAlert's personal fields, sealed under its own data key as audit stores them.
    PersonalData personal(keyring_);
    absl::StatusOr<SealedRecord> sealed = personal.Seal("alerts", kSealedAlert, kPersonal);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    sealed_ = *sealed;
    absl::Status stored = db_->Transact([&](pqxx::work& txn) {
      txn.exec_params(
          "UPDATE alerts SET recipient_ciphertext = $2, text_ciphertext = $3 WHERE alert_id = $1",
          kSealedAlert, pqxx::binarystring(sealed_.ciphertext.at("recipient_ciphertext")),
          pqxx::binarystring(sealed_.ciphertext.at("text_ciphertext")));
      txn.exec_params(
          "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
          "VALUES ($1, $2, $3, '2025-03-01T00:00:00Z')",
          sealed_.owner, static_cast<int64_t>(sealed_.wrapped_key.kek_version),
          pqxx::binarystring(sealed_.wrapped_key.sealed));
      return absl::OkStatus();
    });
    ASSERT_TRUE(stored.ok()) << stored;
    // A younger record's key, which outlives the first run.
    absl::StatusOr<SealedRecord> recent = personal.Seal("alerts", kRecentAlert, kPersonal);
    ASSERT_TRUE(recent.ok()) << recent.status();
    absl::Status recent_stored = db_->Transact([&](pqxx::work& txn) {
      txn.exec_params(
          "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
          "VALUES ($1, $2, $3, '2025-06-01T00:00:00Z')",
          recent->owner, static_cast<int64_t>(recent->wrapped_key.kek_version),
          pqxx::binarystring(recent->wrapped_key.sealed));
      return absl::OkStatus();
    });
    ASSERT_TRUE(recent_stored.ok()) << recent_stored;

    // Delivered long ago, delivered recently, and still pending however old.
    InsertCallback(kSealedAlert, 1, "2025-03-01T00:05:00Z");
    InsertCallback(kSealedAlert, 2, "2025-06-01T00:00:00Z");
    InsertCallback(kSealedAlert, 3, "");
    // Both delivered long ago: the older goes, the newest stays to number the alert's next one.
    InsertCallback(kRecentAlert, 1, "2025-03-02T00:00:00Z");
    InsertCallback(kRecentAlert, 2, "2025-03-03T00:00:00Z");

    InsertDeadLetter("0190f1c4-0000-7000-8000-0000000000d1", "2025-03-10T00:00:00Z");
    InsertDeadLetter("0190f1c4-0000-7000-8000-0000000000d2", "2025-06-01T00:00:00Z");
  }

  // The sealed alert's ciphertext as stored, and every wrapped key the database still holds.
  Fields StoredCiphertext() {
    Fields fields;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     const pqxx::row row = txn.exec_params1(
                         "SELECT recipient_ciphertext, text_ciphertext FROM alerts "
                         "WHERE alert_id = $1",
                         kSealedAlert);
                     fields["recipient_ciphertext"] = pqxx::binarystring(row[0]).str();
                     fields["text_ciphertext"] = pqxx::binarystring(row[1]).str();
                     return absl::OkStatus();
                   })
                    .ok());
    return fields;
  }

  std::vector<crypto::WrappedKey> StoredWrappedKeys() {
    std::vector<crypto::WrappedKey> keys;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     for (const auto& row :
                          txn.exec("SELECT kek_version, wrapped_key FROM data_keys")) {
                       keys.push_back({.kek_version = row[0].as<uint32_t>(),
                                       .sealed = pqxx::binarystring(row[1]).str()});
                     }
                     return absl::OkStatus();
                   })
                    .ok());
    return keys;
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresRetentionStore> store_;
  crypto::LocalKeyring keyring_ =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1}));
  SealedRecord sealed_;
  const RetentionPolicy policy_;  // 90 days, 7 years
};

TEST_F(RetentionPostgresTest, After100DaysDropsTheMonthsThatEndedBeforeTheCutoff) {
  // Operational cutoff 2025-03-30T12:00Z: January and February have ended, March has not.
  const RetentionReport report = RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 100));
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_THAT(report.partitions_dropped,
              ElementsAre("audit_events_2025_01", "audit_events_2025_02"));
  EXPECT_EQ(report.events_removed, 3 + 1);  // two partitions' and the default partition's
  EXPECT_THAT(report.partitions_busy, IsEmpty());
  EXPECT_THAT(report.partitions_created,
              ElementsAre("audit_events_2025_06", "audit_events_2025_07", "audit_events_2025_08"));
  EXPECT_EQ(report.dead_letters_deleted, 1);
  // The pending one stays, however old, and so does each alert's newest.
  EXPECT_EQ(report.caller_callbacks_deleted, 2);
  EXPECT_EQ(Callbacks(), 3);
  EXPECT_EQ(report.data_keys_shredded, 1);
  EXPECT_EQ(report.alerts_deleted, 1);

  const std::vector<std::string> partitions = Partitions();
  EXPECT_THAT(partitions, Not(Contains("audit_events_2025_01")));
  EXPECT_THAT(partitions, Contains("audit_events_2025_03"));
  EXPECT_THAT(partitions, Contains("audit_events_default"));
  EXPECT_THAT(partitions, Contains("audit_events_2025_08"));
  EXPECT_EQ(Count("SELECT count(*) FROM audit_events"), 1);  // March's
  EXPECT_EQ(Count("SELECT count(*) FROM dead_letters"), 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM alerts WHERE alert_id = '", kOldAlert, "'")),
            0);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM attempts WHERE alert_id = '", kOldAlert, "'")),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM alerts"), 2);
}

// A change after retention is numbered on from the newest row the alert kept, never from 1 again:
// its receiver drops a Klaxon-Event-Id it has seen and refuses a sequence below one it has.
TEST_F(RetentionPostgresTest, AChangeAfterRetentionIsNumberedOnFromTheAlertsNewestCallback) {
  ASSERT_TRUE(RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 100)).ok());
  const std::string sequences_sql = absl::StrCat(
      "SELECT string_agg(sequence::text, ',' ORDER BY sequence) FROM caller_callbacks "
      "WHERE alert_id = '",
      kRecentAlert, "'");
  EXPECT_EQ(Text(sequences_sql), "2");

  const StatusChange delivered = {.alert_id = kRecentAlert,
                                  .caller = "billing",
                                  .channel = klaxon::types::v1::CHANNEL_SMS,
                                  .status = klaxon::types::v1::ALERT_STATUS_DELIVERED,
                                  .attempt = 1,
                                  .occurred_at = kSeededAt + absl::Hours(24 * 100)};
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   EnqueueStatusChanges(txn, {delivered}, {"billing"});
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(Text(sequences_sql), "2,3");
}

TEST_F(RetentionPostgresTest, ShreddedRecordsCiphertextCanNoLongerBeOpened) {
  PersonalData personal(keyring_);
  absl::StatusOr<Fields> before =
      personal.Open("alerts", kSealedAlert, sealed_.wrapped_key, StoredCiphertext());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(*before, kPersonal);

  ASSERT_TRUE(RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 100)).ok());

  // The alert and its ciphertext are still there (compliance metadata lives 7 years)...
  const Fields ciphertext = StoredCiphertext();
  EXPECT_EQ(ciphertext, sealed_.ciphertext);
  // ...but its data key is gone, and no wrapped key left in the database opens it.
  EXPECT_EQ(
      Count(absl::StrCat("SELECT count(*) FROM data_keys WHERE owner = '", sealed_.owner, "'")), 0);
  const std::vector<crypto::WrappedKey> remaining = StoredWrappedKeys();
  ASSERT_EQ(remaining.size(), 1u);  // kRecentAlert's
  for (const crypto::WrappedKey& key : remaining) {
    absl::StatusOr<Fields> opened = personal.Open("alerts", kSealedAlert, key, ciphertext);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
  }
}

TEST_F(RetentionPostgresTest, After8YearsOnlyTheComingPartitionsAndNoRecordsRemain) {
  const RetentionReport report =
      RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 365 * 8));
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_EQ(report.events_removed, 5);
  EXPECT_EQ(report.data_keys_shredded, 2);
  EXPECT_EQ(report.dead_letters_deleted, 2);
  EXPECT_EQ(report.alerts_deleted, 3);
  // Every monthly partition from 2025 and the ones the migration made have ended; what is left
  // is the default partition and the three months from "now" on.
  EXPECT_THAT(Partitions(), ElementsAre("audit_events_2033_03", "audit_events_2033_04",
                                        "audit_events_2033_05", "audit_events_default"));
  EXPECT_EQ(Count("SELECT count(*) FROM audit_events"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM alerts"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM attempts"), 0);
}

TEST_F(RetentionPostgresTest, RunningAgainRemovesNothingMore) {
  const absl::Time now = kSeededAt + absl::Hours(24 * 100);
  ASSERT_TRUE(RunRetention(*store_, policy_, now).ok());
  const RetentionReport again = RunRetention(*store_, policy_, now);
  EXPECT_TRUE(again.ok()) << again.ToJson();
  EXPECT_THAT(again.partitions_dropped, IsEmpty());
  EXPECT_THAT(again.partitions_created, IsEmpty());
  EXPECT_EQ(again.events_removed + again.dead_letters_deleted + again.data_keys_shredded +
                again.alerts_deleted,
            0);
}

TEST_F(RetentionPostgresTest, BatchesDeleteEverythingExpired) {
  for (int i = 0; i < 7; ++i) {
    Exec(
        absl::StrCat("INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) VALUES "
                     "('alerts/batch-",
                     i, "', 1, '\\x00', '2025-01-01T00:00:00Z')"));
  }
  const RetentionReport report =
      RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 100), {.batch_size = 3});
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_EQ(report.data_keys_shredded, 8);
  EXPECT_EQ(Count("SELECT count(*) FROM data_keys"), 1);
}

TEST_F(RetentionPostgresTest, DryRunChangesNothing) {
  const RetentionReport report =
      RunRetention(*store_, policy_, kSeededAt + absl::Hours(24 * 100), {.dry_run = true});
  EXPECT_TRUE(report.ok()) << report.ToJson();
  EXPECT_THAT(report.partitions_dropped,
              ElementsAre("audit_events_2025_01", "audit_events_2025_02"));
  EXPECT_EQ(report.events_removed, 4);
  EXPECT_EQ(report.data_keys_shredded, 1);
  EXPECT_EQ(report.alerts_deleted, 1);
  EXPECT_THAT(Partitions(), Contains("audit_events_2025_01"));
  EXPECT_THAT(Partitions(), Not(Contains("audit_events_2025_06")));
  EXPECT_EQ(Count("SELECT count(*) FROM audit_events"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM data_keys"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM alerts"), 3);
}

// Ingest holds audit_events (an insert's ROW EXCLUSIVE lock in an open transaction): the drop
// gives up after lock_timeout instead of queueing every later insert behind it.
TEST_F(RetentionPostgresTest, APartitionLockedByIngestIsLeftForTheNextRun) {
  pqxx::connection ingest(scratch_->url());
  pqxx::work holding(ingest);
  holding.exec("LOCK TABLE audit_events IN ROW EXCLUSIVE MODE");

  PostgresRetentionStore impatient(*db_, {.lock_timeout = absl::Milliseconds(100)});
  absl::StatusOr<int64_t> dropped = impatient.DropEventPartition("audit_events_2025_01");
  EXPECT_EQ(dropped.status().code(), absl::StatusCode::kAborted) << dropped.status();
  holding.abort();
  EXPECT_THAT(Partitions(), Contains("audit_events_2025_01"));

  absl::StatusOr<int64_t> later = impatient.DropEventPartition("audit_events_2025_01");
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later, 2);
}

}  // namespace
}  // namespace klaxon::audit::retention_postgres_test
