// Key rotation against a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch
// database of its own, migrated to audit's schema).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/envelope.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "common/timing/clock.h"
#include "pqxx/pqxx"
#include "services/audit/admin/key_rotation.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_data_keys.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit::key_rotation_postgres_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

crypto::LocalKeyring Keyring(uint32_t current, std::initializer_list<uint32_t> versions) {
  return crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(current, versions)).value();
}

class KeyRotationPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        testing::MigratedAuditDatabase(&scratch_, &db_, {.max_connections = 4}));
    store_ = std::make_unique<PostgresDataKeys>(*db_);
  }

  // Seals a record's text under `keyring` and inserts its data key as audit does.
  void AddRecord(const std::string& table, const std::string& id, crypto::LocalKeyring& keyring) {
    absl::StatusOr<SealedRecord> sealed =
        PersonalData(keyring).Seal(table, id, {{"text", "text of " + id}});
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    ASSERT_TRUE(Write(sealed->owner, sealed->wrapped_key).ok());
    records_[{table, id}] = sealed->ciphertext;
  }

  void AddRecords(int count, crypto::LocalKeyring& keyring) {
    for (int i = 0; i < count; ++i) {
      AddRecord("alerts", absl::StrCat("0190f1c4-7a3e-7b12-9c4d-", 100000000000 + i), keyring);
    }
  }

  // Inserts or overwrites a data_keys row, as a concurrent writer would.
  absl::Status Write(const std::string& owner, const crypto::WrappedKey& wrapped) {
    return db_->Transact([&](pqxx::work& txn) {
      txn.exec_params(
          "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
          "VALUES ($1, $2, $3, now()) ON CONFLICT (owner) DO UPDATE SET "
          "kek_version = EXCLUDED.kek_version, wrapped_key = EXCLUDED.wrapped_key",
          owner, static_cast<int64_t>(wrapped.kek_version),
          pqxx::binarystring(wrapped.sealed.data(), wrapped.sealed.size()));
      return absl::OkStatus();
    });
  }

  std::map<std::string, crypto::WrappedKey> Rows() {
    std::map<std::string, crypto::WrappedKey> rows;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     for (const pqxx::row row :
                          txn.exec("SELECT owner, kek_version, wrapped_key FROM data_keys")) {
                       rows[row[0].as<std::string>()] = {
                           .kek_version = row[1].as<uint32_t>(),
                           .sealed = pqxx::binarystring(row[2]).str()};
                     }
                     return absl::OkStatus();
                   })
                    .ok());
    return rows;
  }

  // Every record opens with `keyring` to the text it was sealed with.
  void ExpectAllOpen(crypto::LocalKeyring& keyring) {
    const std::map<std::string, crypto::WrappedKey> rows = Rows();
    PersonalData personal_data(keyring);
    for (const auto& [record, ciphertext] : records_) {
      const auto& [table, id] = record;
      absl::StatusOr<Fields> opened =
          personal_data.Open(table, id, rows.at(DataKeyOwner(table, id)), ciphertext);
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(opened->at("text"), "text of " + id);
    }
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresDataKeys> store_;
  std::map<std::pair<std::string, std::string>, Fields> records_;
  timing::RealClock clock_;
  crypto::LocalKeyring v1_ = Keyring(1, {1});
  crypto::LocalKeyring v1_v2_ = Keyring(2, {1, 2});
  crypto::LocalKeyring v2_ = Keyring(2, {2});
};

TEST_F(KeyRotationPostgresTest, EveryRecordOpensWithOnlyTheNewVersionAfterRotation) {
  AddRecords(25, v1_);

  absl::StatusOr<RotationReport> report =
      RotateDataKeys(*store_, v1_v2_, clock_, {.batch_size = 10});

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rewrapped, 25);
  EXPECT_EQ(report->changed_concurrently, 0);
  EXPECT_THAT(report->remaining, IsEmpty());
  EXPECT_THAT(*store_->CountByVersion(), ElementsAre(Pair(2u, 25)));
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationPostgresTest, SecondRotationRewritesNothing) {
  AddRecords(5, v1_);
  ASSERT_TRUE(RotateDataKeys(*store_, v1_v2_, clock_).ok());
  const std::map<std::string, crypto::WrappedKey> after_first = Rows();

  absl::StatusOr<RotationReport> again = RotateDataKeys(*store_, v1_v2_, clock_);

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->rewrapped, 0);
  EXPECT_EQ(again->already_current, 5);
  EXPECT_EQ(Rows(), after_first);
}

TEST_F(KeyRotationPostgresTest, PagesFollowOwnerOrderAndSkipTheGivenVersion) {
  AddRecords(3, v1_);
  AddRecord("alerts", "0190f1c4-7a3e-7b12-9c4d-100000000001x", v1_v2_);

  absl::StatusOr<std::vector<StoredDataKey>> first = store_->KeysNotUnder(2, "", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 2u);
  absl::StatusOr<std::vector<StoredDataKey>> rest = store_->KeysNotUnder(2, first->back().owner, 2);
  ASSERT_TRUE(rest.ok()) << rest.status();

  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*first)[0].owner, "alerts/0190f1c4-7a3e-7b12-9c4d-100000000000");
  EXPECT_EQ((*first)[1].owner, "alerts/0190f1c4-7a3e-7b12-9c4d-100000000001");
  EXPECT_EQ((*rest)[0].owner, "alerts/0190f1c4-7a3e-7b12-9c4d-100000000002");
  EXPECT_EQ((*rest)[0].wrapped, Rows().at((*rest)[0].owner));
}

TEST_F(KeyRotationPostgresTest, RowChangedOrDeletedAfterTheReadIsNotOverwritten) {
  AddRecords(4, v1_);
  absl::StatusOr<std::vector<StoredDataKey>> page = store_->KeysNotUnder(2, "", 10);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<DataKeyUpdate> updates;
  crypto::Envelope envelope(v1_v2_);
  for (const StoredDataKey& key : *page) {
    updates.push_back({.owner = key.owner,
                       .expected = key.wrapped,
                       .replacement = envelope.Rewrap(key.wrapped, key.owner).value()});
  }
  // Meanwhile a writer replaces the first row's key and retention deletes the second row.
  const std::string changed = (*page)[0].owner;
  const crypto::WrappedKey written_meanwhile = envelope.NewKey(changed).value().wrapped;
  ASSERT_TRUE(Write(changed, written_meanwhile).ok());
  const std::string deleted = (*page)[1].owner;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   txn.exec_params("DELETE FROM data_keys WHERE owner = $1", deleted);
                   return absl::OkStatus();
                 })
                  .ok());

  absl::StatusOr<size_t> written = store_->ReplaceIfUnchanged(updates);

  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, 2u);
  const std::map<std::string, crypto::WrappedKey> rows = Rows();
  EXPECT_EQ(rows.at(changed), written_meanwhile);
  EXPECT_FALSE(rows.contains(deleted));
  EXPECT_EQ(rows.at((*page)[2].owner), updates[2].replacement);
  EXPECT_EQ(rows.at((*page)[3].owner), updates[3].replacement);
}

TEST_F(KeyRotationPostgresTest, OwnersWithQuotesBackslashesAndBracesAreRewrapped) {
  AddRecord("dead_letters", R"(a"b\c,{d} e)", v1_);
  AddRecord("dead_letters", "NULL", v1_);

  absl::StatusOr<RotationReport> report = RotateDataKeys(*store_, v1_v2_, clock_);

  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rewrapped, 2);
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationPostgresTest, TwoRotationsAtOnceBothSucceedAndEveryRecordOpens) {
  AddRecords(60, v1_);
  absl::StatusOr<RotationReport> first, second;
  {
    std::jthread other(
        [&] { second = RotateDataKeys(*store_, v1_v2_, clock_, {.batch_size = 7}); });
    first = RotateDataKeys(*store_, v1_v2_, clock_, {.batch_size = 7});
  }

  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  // Each key was written by exactly one of them; the other found it changed or skipped it.
  EXPECT_EQ(first->rewrapped + second->rewrapped, 60);
  ExpectAllOpen(v2_);
}

TEST_F(KeyRotationPostgresTest, KeyringWithoutAVersionSomeKeyNeedsFailsNamingIt) {
  AddRecords(2, v1_);

  absl::StatusOr<RotationReport> report = RotateDataKeys(*store_, v2_, clock_);

  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("key version 1"));
  EXPECT_THAT(*store_->CountByVersion(), ElementsAre(Pair(1u, 2)));
}

}  // namespace
}  // namespace klaxon::audit::key_rotation_postgres_test
