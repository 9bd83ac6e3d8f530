// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
#include "services/audit/postgres/postgres_dead_letter_store.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/audit/dead_letters/stored_dead_letter.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/testing/dead_letter_fixtures.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "tests/support/support.h"

namespace klaxon::audit::postgres_dead_letter_store_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kOtherAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6e";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'123'456);

class PostgresDeadLetterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        testing::MigratedAuditDatabase(&scratch_, &db_, {.max_connections = 8}));
    store_ = std::make_unique<PostgresDeadLetterStore>(*db_);
  }

  // A dead letter of `caller`, sealed as the handler seals it.
  NewDeadLetter Letter(const std::string& alert_id, const std::string& caller = "billing",
                       absl::Time at = kT0, const std::string& cause = "max_attempts") {
    absl::StatusOr<SealedRecord> sealed = personal_data_.Seal(
        kDeadLettersTable, alert_id,
        {{kRequestColumn,
          StoredDeadLetterRequest(testing::Request(alert_id, caller),
                                  {.recipient = testing::kRecipient, .text = testing::kText})}});
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    return {.summary = {.alert_id = alert_id,
                        .caller = caller,
                        .channel = types::v1::CHANNEL_SMS,
                        .attempt = 3,
                        .reason = "out of attempts",
                        .twilio_error_code = 30008,
                        .recipient_country_code = "1",
                        .recipient_last4 = "0123",
                        .dead_lettered_at = at,
                        .cause = cause},
            .recipient_index = blind_index_.Compute(testing::kRecipient),
            .request_ciphertext = sealed->ciphertext.at(kRequestColumn),
            .wrapped_key = sealed->wrapped_key};
  }

  std::string Sql(const std::string& query) {
    pqxx::connection connection(scratch_->url());
    pqxx::nontransaction txn(connection);
    const pqxx::result rows = txn.exec(query);
    return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].as<std::string>();
  }

  crypto::LocalKeyring keyring_ = testing::TestKeyring();
  PersonalData personal_data_{keyring_};
  const crypto::BlindIndex blind_index_ = testing::TestBlindIndex();
  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresDeadLetterStore> store_;
};

TEST_F(PostgresDeadLetterStoreTest, ADeadLetterIsStoredOnceWithOneDataKey) {
  const NewDeadLetter letter = Letter(kAlertId);
  EXPECT_EQ(store_->Add(letter).value(), true);
  EXPECT_EQ(store_->Add(Letter(kAlertId)).value(), false);
  EXPECT_EQ(Sql("SELECT count(*) FROM dead_letters"), "1");
  EXPECT_EQ(Sql("SELECT count(*) FROM data_keys"), "1");
  EXPECT_EQ(Sql("SELECT owner FROM data_keys"), absl::StrCat("dead_letters/", kAlertId));
  // The first letter's key still opens the stored request.
  const StoredDeadLetter stored = store_->Get("billing", kAlertId).value().value();
  EXPECT_EQ(stored.wrapped_key, letter.wrapped_key);
  EXPECT_EQ(stored.request_ciphertext, letter.request_ciphertext);
}

TEST_F(PostgresDeadLetterStoreTest, TheStoredRowHoldsNoPlaintextPersonalData) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId)).ok());
  const std::string row =
      Sql("SELECT encode(convert_to(d::text, 'UTF8'), 'escape') || encode(request_ciphertext, "
          "'escape') FROM dead_letters d");
  EXPECT_THAT(row, Not(HasSubstr("4155550123")));
  EXPECT_THAT(row, Not(HasSubstr(testing::kText)));
  EXPECT_EQ(Sql("SELECT encode(recipient_index, 'hex') FROM dead_letters"),
            absl::BytesToHexString(blind_index_.Compute(testing::kRecipient)));
}

TEST_F(PostgresDeadLetterStoreTest, GetReadsBackWhatOpensToTheRequest) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId)).ok());
  const StoredDeadLetter stored = store_->Get("billing", kAlertId).value().value();
  EXPECT_EQ(stored.summary, Letter(kAlertId).summary);
  ASSERT_TRUE(stored.wrapped_key.has_value());
  absl::StatusOr<Fields> opened =
      personal_data_.Open(kDeadLettersTable, kAlertId, *stored.wrapped_key,
                          {{kRequestColumn, stored.request_ciphertext}});
  ASSERT_TRUE(opened.ok()) << opened.status();
  absl::StatusOr<OpenedDeadLetterRequest> request =
      ParseStoredDeadLetterRequest(opened->at(kRequestColumn));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->personal.recipient, testing::kRecipient);
  EXPECT_EQ(request->personal.text, testing::kText);
}

TEST_F(PostgresDeadLetterStoreTest, AnotherCallersDeadLetterIsNotThere) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId, "payments")).ok());
  EXPECT_FALSE(store_->Get("billing", kAlertId).value().has_value());
  EXPECT_EQ(store_->ClaimReplay("billing", kAlertId, kOtherAlertId, kT0, "billing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PostgresDeadLetterStoreTest, AShreddedDataKeyLeavesTheRequestUnopenable) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId)).ok());
  Sql("DELETE FROM data_keys");
  EXPECT_FALSE(store_->Get("billing", kAlertId).value().value().wrapped_key.has_value());
}

TEST_F(PostgresDeadLetterStoreTest, ConcurrentReplaysAllGetTheFirstClaimsId) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId)).ok());
  constexpr int kReplays = 8;
  std::vector<absl::StatusOr<ReplayClaim>> claims(kReplays);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kReplays; ++i) {
      threads.emplace_back([&, i] {
        claims[static_cast<size_t>(i)] = store_->ClaimReplay(
            "billing", kAlertId, absl::StrCat("0190f1c4-0000-7000-8000-00000000000", i),
            kT0 + absl::Seconds(i), "billing");
      });
    }
  }
  std::set<std::string> ids;
  int claimed = 0;
  for (const absl::StatusOr<ReplayClaim>& claim : claims) {
    ASSERT_TRUE(claim.ok()) << claim.status();
    ids.insert(claim->replayed_as);
    if (claim->claimed) ++claimed;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(claimed, 1);
  EXPECT_EQ(Sql("SELECT replayed_as::text FROM dead_letters"), *ids.begin());
  // The one winning claim is the one replay in the dead letter's audit trail.
  EXPECT_EQ(Sql("SELECT count(*) FROM audit_events WHERE kind = 'dead_letter_replayed'"), "1");
}

TEST_F(PostgresDeadLetterStoreTest, AReplayIsRecordedInTheAuditTrailWithWhoAndTheNewAlert) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId)).ok());
  ASSERT_TRUE(store_->ClaimReplay("billing", kAlertId, kOtherAlertId, kT0, "oncall").ok());
  EXPECT_EQ(Sql(absl::StrCat("SELECT reason FROM audit_events WHERE alert_id = '", kAlertId,
                             "' AND kind = 'dead_letter_replayed'")),
            absl::StrCat("replayed as ", kOtherAlertId, " by oncall"));
  EXPECT_EQ(Sql("SELECT (extract(epoch FROM occurred_at) * 1000000)::bigint FROM audit_events"),
            absl::StrCat(absl::ToUnixMicros(kT0)));
  EXPECT_EQ(Sql("SELECT caller FROM audit_events"), "billing");
  const std::optional<StoredDeadLetter> stored = store_->Get("billing", kAlertId).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->summary.replayed_by, "oncall");
  EXPECT_EQ(stored->summary.cause, "max_attempts");
}

TEST_F(PostgresDeadLetterStoreTest, FindOwnerNamesTheCallerOfAnyDeadLetter) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId, "payments")).ok());
  EXPECT_EQ(store_->FindOwner(kAlertId).value(), "payments");
  EXPECT_EQ(store_->FindOwner(kOtherAlertId).value(), std::nullopt);
}

TEST_F(PostgresDeadLetterStoreTest, ListFiltersByCallerScopeCauseErrorCodeAndTime) {
  constexpr char kThird[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6f";
  ASSERT_TRUE(store_->Add(Letter(kAlertId, "billing", kT0)).ok());
  ASSERT_TRUE(store_->Add(Letter(kOtherAlertId, "payments", kT0 + absl::Minutes(1))).ok());
  ASSERT_TRUE(store_->Add(Letter(kThird, "payments", kT0 + absl::Hours(1), "deadline")).ok());
  auto ids = [](const std::vector<DeadLetterSummary>& rows) {
    std::vector<std::string> found;
    for (const DeadLetterSummary& row : rows) found.push_back(row.alert_id);
    return found;
  };
  EXPECT_THAT(ids(store_->List({.all_callers = true, .limit = 10}).value()),
              ElementsAre(kThird, kOtherAlertId, kAlertId));
  EXPECT_THAT(
      ids(store_->List({.all_callers = true, .filter = {.cause = "deadline"}, .limit = 10})
              .value()),
      ElementsAre(kThird));
  EXPECT_THAT(ids(store_
                      ->List({.all_callers = true,
                              .filter = {.from = kT0, .before = kT0 + absl::Minutes(30)},
                              .limit = 10})
                      .value()),
              ElementsAre(kOtherAlertId, kAlertId));
  EXPECT_THAT(
      ids(store_->List({.all_callers = true, .filter = {.twilio_error_code = 30008}, .limit = 10})
              .value()),
      ElementsAre(kThird, kOtherAlertId, kAlertId));
  EXPECT_TRUE(
      store_->List({.all_callers = true, .filter = {.twilio_error_code = 21211}, .limit = 10})
          .value()
          .empty());
  EXPECT_THAT(ids(store_->List({.caller = "payments", .limit = 10}).value()),
              ElementsAre(kThird, kOtherAlertId));
}

TEST_F(PostgresDeadLetterStoreTest, ListPagesNewestFirstAndLeavesReplayedOutUnlessAsked) {
  ASSERT_TRUE(store_->Add(Letter(kAlertId, "billing", kT0)).ok());
  ASSERT_TRUE(store_->Add(Letter(kOtherAlertId, "billing", kT0 + absl::Seconds(1))).ok());
  ASSERT_TRUE(store_->Add(Letter("0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6f", "payments")).ok());
  auto ids = [](const std::vector<DeadLetterSummary>& rows) {
    std::vector<std::string> found;
    for (const DeadLetterSummary& row : rows) found.push_back(row.alert_id);
    return found;
  };
  EXPECT_THAT(ids(store_->List({.caller = "billing", .limit = 10}).value()),
              ElementsAre(kOtherAlertId, kAlertId));
  EXPECT_THAT(ids(store_
                      ->List({.caller = "billing",
                              .after = DeadLetterCursor{.dead_lettered_at = kT0 + absl::Seconds(1),
                                                        .alert_id = kOtherAlertId},
                              .limit = 10})
                      .value()),
              ElementsAre(kAlertId));
  ASSERT_TRUE(store_->ClaimReplay("billing", kOtherAlertId, kAlertId, kT0, "billing").ok());
  EXPECT_THAT(ids(store_->List({.caller = "billing", .limit = 10}).value()), ElementsAre(kAlertId));
  const std::vector<DeadLetterSummary> all =
      store_->List({.caller = "billing", .include_replayed = true, .limit = 1}).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].replayed_as, kAlertId);
  EXPECT_EQ(all[0].replayed_at, kT0);
  EXPECT_EQ(store_->CountPending().value(), 2);
}

}  // namespace
}  // namespace klaxon::audit::postgres_dead_letter_store_test
