// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// The outbox as PostgresAlertStore fills it and PostgresCallbackOutbox drains it.
#include "services/audit/postgres/postgres_callback_outbox.h"

#include <chrono>
#include <future>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/audit/postgres/alert_locks.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/testing/ingest.h"
#include "services/audit/testing/migrated_audit_database.h"

namespace klaxon::audit::postgres_callback_outbox_test {
namespace {

using klaxon::types::v1::ALERT_STATUS_DELIVERED;
using klaxon::types::v1::ALERT_STATUS_QUEUED;
using klaxon::types::v1::ALERT_STATUS_SENT;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kFirst[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kSecond[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6e";
constexpr char kThird[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6f";
constexpr char kFourth[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c70";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'123'456);

AlertEvent Requested(const std::string& alert_id, const std::string& caller) {
  return {.kind = AlertEvent::Kind::kRequested,
          .alert_id = alert_id,
          .caller = caller,
          .channel = klaxon::types::v1::CHANNEL_SMS,
          .attempt = 1,
          .occurred_at = kT0,
          .status = ALERT_STATUS_QUEUED,
          .recipient_country_code = "1",
          .recipient_last4 = "0100"};
}

AlertEvent Outcome(const std::string& alert_id, AlertStatus status, absl::Duration after,
                   int32_t code = 0, std::string reason = "") {
  AlertEvent event = Requested(alert_id, "oncall");
  event.kind = AlertEvent::Kind::kOutcome;
  event.status = status;
  event.occurred_at = kT0 + after;
  event.recipient_country_code.clear();
  event.recipient_last4.clear();
  event.twilio_sid = "SM1";
  event.twilio_error_code = code;
  event.reason = std::move(reason);
  return event;
}

class PostgresCallbackOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::MigratedAuditDatabase(&scratch_, &db_));
    store_ =
        std::make_unique<PostgresAlertStore>(*db_, std::set<std::string, std::less<>>{"oncall"});
    outbox_ = std::make_unique<PostgresCallbackOutbox>(*db_);
  }

  void Write(std::vector<AlertEvent> events) {
    std::vector<IngestItem> batch;
    for (AlertEvent& event : events) batch.push_back(testing::EventItem(std::move(event)));
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  std::vector<PendingCallback> Claim(absl::Time now, size_t limit = 100,
                                     const std::vector<std::string>& last_callers = {}) {
    absl::StatusOr<std::vector<PendingCallback>> claimed =
        outbox_->Claim(limit, now, now + absl::Seconds(40), last_callers);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    std::vector<PendingCallback> sorted = claimed.value_or(std::vector<PendingCallback>{});
    // In no particular order: sorted by alert and sequence.
    absl::c_sort(sorted, [](const PendingCallback& a, const PendingCallback& b) {
      return std::tie(a.change.alert_id, a.sequence) < std::tie(b.change.alert_id, b.sequence);
    });
    return sorted;
  }

  static std::vector<std::string> Ids(const std::vector<PendingCallback>& callbacks) {
    std::vector<std::string> ids;
    for (const PendingCallback& callback : callbacks) {
      ids.push_back(
          absl::StrCat(callback.change.alert_id.substr(callback.change.alert_id.size() - 1), "/",
                       callback.sequence));
    }
    return ids;
  }

  // Settles one claimed callback; what the outbox did with it.
  SettlementOutcome SettleOne(const PendingCallback& callback, CallbackFate fate,
                              absl::Time next = absl::UnixEpoch()) {
    absl::StatusOr<std::vector<SettlementOutcome>> outcomes =
        outbox_->Settle({{.alert_id = callback.change.alert_id,
                          .sequence = callback.sequence,
                          .attempts = callback.attempts,
                          .fate = fate,
                          .next_attempt_at = next,
                          .error = fate == CallbackFate::kDelivered ? "" : "HTTP 500"}});
    EXPECT_TRUE(outcomes.ok()) << outcomes.status();
    EXPECT_THAT(outcomes.value_or(std::vector<SettlementOutcome>{}), SizeIs(1));
    return outcomes.ok() && outcomes->size() == 1 ? outcomes->front() : SettlementOutcome::kBusy;
  }

  void Settle(const PendingCallback& callback, CallbackFate fate,
              absl::Time next = absl::UnixEpoch()) {
    EXPECT_EQ(SettleOne(callback, fate, next), SettlementOutcome::kRecorded);
  }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresAlertStore> store_;
  std::unique_ptr<PostgresCallbackOutbox> outbox_;
};

TEST_F(PostgresCallbackOutboxTest, StoresEachChangeOfASubscribedCallerNumberedPerAlert) {
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kFirst, "oncall"), Requested(kSecond, "billing"),
                                 Outcome(kFirst, ALERT_STATUS_SENT, absl::Seconds(1)),
                                 Outcome(kSecond, ALERT_STATUS_SENT, absl::Seconds(1))}));
  ASSERT_NO_FATAL_FAILURE(Write(
      {Outcome(kFirst, ALERT_STATUS_DELIVERED, absl::Seconds(2), 0, "delivered to the handset")}));
  const absl::Time now = absl::Now();  // rows are due from their insert (the database's now())

  // billing takes no callbacks; only the first alert's head is claimable.
  const std::vector<PendingCallback> first = Claim(now);
  ASSERT_THAT(Ids(first), ElementsAre("d/1"));
  EXPECT_EQ(first[0].change.caller, "oncall");
  EXPECT_EQ(first[0].change.status, ALERT_STATUS_QUEUED);
  EXPECT_EQ(first[0].attempts, 1u);
  EXPECT_EQ(first[0].change.occurred_at, kT0);

  absl::StatusOr<PendingCallbacks> pending = outbox_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->count, 3);

  Settle(first[0], CallbackFate::kDelivered);
  const std::vector<PendingCallback> second = Claim(now);
  ASSERT_THAT(Ids(second), ElementsAre("d/2"));
  EXPECT_EQ(second[0].change.status, ALERT_STATUS_SENT);
  Settle(second[0], CallbackFate::kDelivered);
  const std::vector<PendingCallback> third = Claim(now);
  ASSERT_THAT(Ids(third), ElementsAre("d/3"));
  EXPECT_EQ(third[0].change.status, ALERT_STATUS_DELIVERED);
  EXPECT_EQ(third[0].change.reason, "delivered to the handset");
  EXPECT_EQ(third[0].change.occurred_at, kT0 + absl::Seconds(2));
}

TEST_F(PostgresCallbackOutboxTest, AnAlertsOwnUrlTravelsWithEachChangeEvenForAnUnsubscribedCaller) {
  AlertEvent own = Requested(kFirst, "oncall");
  own.callback_url = "https://hooks.example.com/db-1";
  AlertEvent unsubscribed = Requested(kSecond, "billing");
  unsubscribed.callback_url = "https://billing.example.com/cb";
  ASSERT_NO_FATAL_FAILURE(Write({own, unsubscribed}));
  // A later batch: the URL comes from the stored alert, not the event.
  ASSERT_NO_FATAL_FAILURE(Write({Outcome(kFirst, ALERT_STATUS_SENT, absl::Seconds(1))}));

  std::vector<PendingCallback> claimed = Claim(absl::Now());
  ASSERT_THAT(Ids(claimed), ElementsAre("d/1", "e/1"));
  EXPECT_EQ(claimed[0].change.callback_url, "https://hooks.example.com/db-1");
  // Queued so the dispatcher dead-letters it for the missing secret, visibly.
  EXPECT_EQ(claimed[1].change.caller, "billing");
  EXPECT_EQ(claimed[1].change.callback_url, "https://billing.example.com/cb");
  Settle(claimed[0], CallbackFate::kDelivered);
  claimed = Claim(absl::Now());
  ASSERT_THAT(Ids(claimed), ElementsAre("d/2"));
  EXPECT_EQ(claimed[0].change.callback_url, "https://hooks.example.com/db-1");
}

// An alert of a caller other than the store's subscribed one, queued for its own URL.
AlertEvent WithOwnUrl(const std::string& alert_id, const std::string& caller) {
  AlertEvent event = Requested(alert_id, caller);
  event.callback_url = absl::StrCat("https://", caller, ".example.com/cb");
  return event;
}

TEST_F(PostgresCallbackOutboxTest, AClaimTakesTheOldestDueWhateverTheirCallers) {
  // One write each, so each head is due from its own transaction's time. Helpdesk's only change
  // is leased; billing sorts first by name, and oncall's is the oldest due.
  ASSERT_NO_FATAL_FAILURE(Write({WithOwnUrl(kFourth, "helpdesk")}));
  ASSERT_THAT(Ids(Claim(absl::Now(), 1)), ElementsAre("0/1"));
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kFirst, "oncall")}));
  ASSERT_NO_FATAL_FAILURE(Write({WithOwnUrl(kSecond, "billing")}));
  ASSERT_NO_FATAL_FAILURE(Write({WithOwnUrl(kThird, "billing")}));
  EXPECT_THAT(Ids(Claim(absl::Now(), 2)), ElementsAre("d/1", "e/1"));
  EXPECT_THAT(Ids(Claim(absl::Now(), 2)), ElementsAre("f/1"));
}

TEST_F(PostgresCallbackOutboxTest, ACallerServedLastGetsWhatTheOthersLeave) {
  ASSERT_NO_FATAL_FAILURE(Write({WithOwnUrl(kFirst, "billing")}));
  ASSERT_NO_FATAL_FAILURE(Write({WithOwnUrl(kThird, "billing")}));
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kSecond, "oncall")}));
  // Oncall's, though the newest, then the older of billing's.
  EXPECT_THAT(Ids(Claim(absl::Now(), 2, {"billing"})), ElementsAre("d/1", "e/1"));
  EXPECT_THAT(Ids(Claim(absl::Now(), 2)), ElementsAre("f/1"));
}

TEST_F(PostgresCallbackOutboxTest, ALeaseHidesAClaimUntilItEnds) {
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kFirst, "oncall"), Requested(kSecond, "oncall")}));
  const absl::Time now = absl::Now();
  ASSERT_THAT(Ids(Claim(now, 1)), ElementsAre("d/1"));
  ASSERT_THAT(Ids(Claim(now)), ElementsAre("e/1"));  // the other replica's claim
  EXPECT_THAT(Claim(now), IsEmpty());
  const std::vector<PendingCallback> again = Claim(now + absl::Seconds(41));
  EXPECT_THAT(Ids(again), ElementsAre("d/1", "e/1"));
  EXPECT_EQ(again[0].attempts, 2u);
}

TEST_F(PostgresCallbackOutboxTest, ALateSettlementOfAnExpiredLeaseChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(
      Write({Requested(kFirst, "oncall"), Outcome(kFirst, ALERT_STATUS_SENT, absl::Seconds(1))}));
  const absl::Time now = absl::Now();
  const PendingCallback stale = Claim(now).at(0);
  // The lease ran out; another replica claims the change again and is still POSTing it.
  const PendingCallback current = Claim(now + absl::Seconds(41)).at(0);
  ASSERT_EQ(current.sequence, 1u);
  ASSERT_EQ(current.attempts, 2u);

  // The first claimer's late give-up must neither end the change nor free the next one, and is
  // told so.
  EXPECT_EQ(SettleOne(stale, CallbackFate::kDeadLettered), SettlementOutcome::kLeaseLost);
  EXPECT_THAT(Claim(now + absl::Seconds(42)), IsEmpty());
  absl::StatusOr<PendingCallbacks> pending = outbox_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->count, 2);

  Settle(current, CallbackFate::kDelivered);
  EXPECT_THAT(Ids(Claim(now + absl::Seconds(42))), ElementsAre("d/2"));
}

TEST_F(PostgresCallbackOutboxTest, OneWriteTellsEachSettlementByTheClaimItAnswers) {
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kFirst, "oncall")}));
  const absl::Time now = absl::Now();
  const PendingCallback stale = Claim(now).at(0);
  const PendingCallback current = Claim(now + absl::Seconds(41)).at(0);
  auto delivered = [](const PendingCallback& callback) {
    return CallbackSettlement{.alert_id = callback.change.alert_id,
                              .sequence = callback.sequence,
                              .attempts = callback.attempts};
  };

  // Both claims of the same change end in one batch: only the one holding the lease counts.
  absl::StatusOr<std::vector<SettlementOutcome>> outcomes =
      outbox_->Settle({delivered(stale), delivered(current)});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_THAT(*outcomes, ElementsAre(SettlementOutcome::kLeaseLost, SettlementOutcome::kRecorded));
  // Settled already: a second settlement of the same claim changes nothing either.
  EXPECT_EQ(SettleOne(current, CallbackFate::kDeadLettered), SettlementOutcome::kLeaseLost);
}

TEST_F(PostgresCallbackOutboxTest, ASettlementNeverWaitsForAWriterOfItsAlert) {
  ASSERT_NO_FATAL_FAILURE(
      Write({Requested(kFirst, "oncall"), Outcome(kFirst, ALERT_STATUS_SENT, absl::Seconds(1)),
             Requested(kSecond, "oncall")}));
  const absl::Time now = absl::Now();
  const std::vector<PendingCallback> claimed = Claim(now);
  ASSERT_THAT(Ids(claimed), ElementsAre("d/1", "e/1"));
  const std::vector<CallbackSettlement> delivered = {
      {.alert_id = kFirst, .sequence = 1, .attempts = claimed[0].attempts},
      {.alert_id = kSecond, .sequence = 1, .attempts = claimed[1].attempts}};

  // The store writing the first alert holds its lock on another connection.
  pqxx::connection writer(scratch_->url());
  pqxx::work writing(writer);
  LockAlerts(writing, {kFirst});
  std::future<absl::StatusOr<std::vector<SettlementOutcome>>> settling =
      std::async(std::launch::async, [this, &delivered] { return outbox_->Settle(delivered); });
  const bool waited = settling.wait_for(std::chrono::seconds(10)) != std::future_status::ready;
  writing.commit();  // ends a settle that waits, so the test fails rather than hangs
  EXPECT_FALSE(waited) << "the settle waited for the writer's lock";
  absl::StatusOr<std::vector<SettlementOutcome>> outcomes = settling.get();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_THAT(*outcomes, ElementsAre(SettlementOutcome::kBusy, SettlementOutcome::kRecorded));

  EXPECT_THAT(Claim(now), IsEmpty());  // the first alert's head is still leased
  outcomes = outbox_->Settle({delivered[0]});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_THAT(*outcomes, ElementsAre(SettlementOutcome::kRecorded));
  EXPECT_THAT(Ids(Claim(now)), ElementsAre("d/2"));
}

TEST_F(PostgresCallbackOutboxTest, ARetryWaitsAndHoldsBackLaterChangesADeadLetterDoesNot) {
  ASSERT_NO_FATAL_FAILURE(
      Write({Requested(kFirst, "oncall"), Outcome(kFirst, ALERT_STATUS_SENT, absl::Seconds(1))}));
  const absl::Time now = absl::Now();
  const PendingCallback head = Claim(now).at(0);
  Settle(head, CallbackFate::kRetry, now + absl::Minutes(5));
  EXPECT_THAT(Claim(now + absl::Minutes(4)), IsEmpty());
  // The later change is not due at all until the head is done, so claims never walk it.
  absl::Status held = db_->Transact([&](pqxx::work& txn) {
    const pqxx::row row =
        txn.exec1("SELECT next_attempt_at = 'infinity' FROM caller_callbacks WHERE sequence = 2");
    EXPECT_TRUE(row[0].as<bool>());
    return absl::OkStatus();
  });
  EXPECT_TRUE(held.ok()) << held;
  const std::vector<PendingCallback> retried = Claim(now + absl::Minutes(5));
  ASSERT_THAT(Ids(retried), ElementsAre("d/1"));
  Settle(retried[0], CallbackFate::kDeadLettered);
  EXPECT_THAT(Ids(Claim(now + absl::Minutes(5))), ElementsAre("d/2"));

  absl::StatusOr<PendingCallbacks> pending = outbox_->Pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->count, 1);
  absl::Status read = db_->Transact([](pqxx::work& txn) {
    const pqxx::row row = txn.exec1(
        "SELECT state, last_error, finished_at IS NOT NULL FROM caller_callbacks "
        "WHERE sequence = 1");
    EXPECT_EQ(row[0].as<int>(), 2);
    EXPECT_EQ(row[1].as<std::string>(), "HTTP 500");
    EXPECT_TRUE(row[2].as<bool>());
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;
}

TEST_F(PostgresCallbackOutboxTest, AnAlertWhoseRequestComesLateIsToldOnceItsCallerIsKnown) {
  AlertEvent delivered = Outcome(kFirst, ALERT_STATUS_DELIVERED, absl::Seconds(2));
  delivered.caller.clear();
  ASSERT_NO_FATAL_FAILURE(Write({delivered}));
  EXPECT_THAT(Claim(absl::Now()), IsEmpty());
  ASSERT_NO_FATAL_FAILURE(Write({Requested(kFirst, "oncall")}));
  const std::vector<PendingCallback> claimed = Claim(absl::Now());
  ASSERT_THAT(Ids(claimed), ElementsAre("d/1"));
  EXPECT_EQ(claimed[0].change.status, ALERT_STATUS_DELIVERED);
}

// Rows a plan's scans of caller_callbacks read (returned or removed by a filter), over all loops.
int64_t RowsReadFromCallerCallbacks(const nlohmann::json& node) {
  int64_t rows = 0;
  if (node.value("Relation Name", "") == "caller_callbacks" && node.contains("Node Type") &&
      node["Node Type"].get<std::string>().find("Scan") != std::string::npos) {
    rows +=
        (node.value("Actual Rows", int64_t{0}) + node.value("Rows Removed by Filter", int64_t{0})) *
        node.value("Actual Loops", int64_t{0});
  }
  for (const nlohmann::json& child : node.value("Plans", nlohmann::json::array())) {
    rows += RowsReadFromCallerCallbacks(child);
  }
  return rows;
}

// The outbox is a queue: what is pending swings from nothing to tens of thousands of rows faster
// than ANALYZE follows. With statistics that say nothing is pending, each statement must still
// read only the rows it is about, never the whole backlog per row (audit's ingest and settles
// fell behind that way under load: a settle of 3,000 callbacks took seconds).
TEST_F(PostgresCallbackOutboxTest, StatementsReadTheRowsTheyAreAboutWhateverTheStatisticsSay) {
  // One connection, so the outbox's prepared statements can be explained on it.
  absl::StatusOr<std::unique_ptr<pg::Database>> one =
      pg::Database::Connect(scratch_->url(), {.max_connections = 1});
  ASSERT_TRUE(one.ok()) << one.status();
  PostgresAlertStore store(**one, std::set<std::string, std::less<>>{"oncall"});
  PostgresCallbackOutbox outbox(**one);
  auto write_alerts = [&store](int first, int count) {
    std::vector<IngestItem> batch;
    for (int i = first; i < first + count; ++i) {
      const std::string id = absl::StrFormat("0190f1c4-7a3e-7b12-9c4d-%012d", i);
      batch.push_back(testing::EventItem(Requested(id, "oncall")));
      batch.push_back(testing::EventItem(Outcome(id, ALERT_STATUS_SENT, absl::Seconds(1))));
      if (batch.size() == 500 || i == first + count - 1) {
        ASSERT_TRUE(store.Write(batch).ok());
        batch.clear();
      }
    }
  };
  auto exec = [&](const std::string& sql) {
    absl::Status done = (*one)->Autocommit([&](pqxx::nontransaction& txn) {
      txn.exec0(sql);
      return absl::OkStatus();
    });
    ASSERT_TRUE(done.ok()) << done;
  };
  // Statistics taken when every change was settled, then a backlog of 2,000 alerts' changes that
  // no autovacuum ANALYZE may notice before the statements are explained.
  ASSERT_NO_FATAL_FAILURE(write_alerts(0, 500));
  ASSERT_NO_FATAL_FAILURE(exec("UPDATE caller_callbacks SET state = 1, finished_at = now()"));
  ASSERT_NO_FATAL_FAILURE(exec("ALTER TABLE caller_callbacks SET (autovacuum_enabled = off)"));
  ASSERT_NO_FATAL_FAILURE(exec("ANALYZE caller_callbacks"));
  ASSERT_NO_FATAL_FAILURE(write_alerts(500, 2000));
  const absl::Time now = absl::Now();
  absl::StatusOr<std::vector<PendingCallback>> claimed =
      outbox.Claim(16, now, now + absl::Seconds(40), {});
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_THAT(*claimed, SizeIs(16));
  std::vector<CallbackSettlement> settlements;
  nlohmann::json explained_settlements = nlohmann::json::array();
  for (size_t i = 0; i < claimed->size(); ++i) {
    const PendingCallback& callback = (*claimed)[i];
    if (i < 8) {
      settlements.push_back({.alert_id = callback.change.alert_id,
                             .sequence = callback.sequence,
                             .attempts = callback.attempts});
      continue;
    }
    explained_settlements.push_back({{"alert_id", callback.change.alert_id},
                                     {"sequence", callback.sequence},
                                     {"attempts", callback.attempts},
                                     {"state", 1},
                                     {"next_attempt_at", 0},
                                     {"error", ""}});
  }
  ASSERT_TRUE(outbox.Settle(settlements).ok());  // and the enqueue ran in write_alerts
  const std::string another_change =
      nlohmann::json::array({{{"alert_id", (*claimed)[8].change.alert_id},
                              {"ordinal", 1},
                              {"caller", "oncall"},
                              {"channel", 1},
                              {"status", 3},
                              {"attempt", 1},
                              {"twilio_error_code", 0},
                              {"reason", ""},
                              {"occurred_at", 0},
                              {"url", ""}}})
          .dump();

  // Each run of an outbox statement, explained and rolled back, with the planner's custom plan
  // and with the generic one it keeps after five runs.
  auto rows_read = [&](const std::string& statement, const std::string& arguments,
                       const char* plan_cache_mode) {
    int64_t rows = std::numeric_limits<int64_t>::max();  // fails the test unless explained
    absl::Status explained = (*one)->Transact([&](pqxx::work& txn) {
      txn.exec0(absl::StrCat("SET LOCAL plan_cache_mode = ", plan_cache_mode));
      const pqxx::row plan = txn.exec1(
          absl::StrCat("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE ", statement, "(", arguments, ")"));
      rows =
          RowsReadFromCallerCallbacks(nlohmann::json::parse(plan[0].as<std::string>())[0]["Plan"]);
      return absl::CancelledError("rolled back");
    });
    EXPECT_TRUE(absl::IsCancelled(explained)) << explained;
    return rows;
  };
  const int64_t now_micros = absl::ToUnixMicros(now);
  // A settle reads at most a pass or two over the table (5,000 rows, 4,000 of them pending), as a
  // hash join over a table this small may; a claim of 8 and the enqueue of one change, a few
  // rows. Never a pass over the backlog for each row: the statements before these read 71,856,
  // 2,009 and 3,993 rows here.
  constexpr int64_t kTwoPasses = 10'000;
  constexpr int64_t kFew = 100;
  for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
    SCOPED_TRACE(mode);
    EXPECT_LT(rows_read("klaxon_audit_settle_callbacks",
                        absl::StrCat("'", explained_settlements.dump(), "'"), mode),
              kTwoPasses);
    EXPECT_LT(
        rows_read("klaxon_audit_claim_callbacks",
                  absl::StrCat("8, ", now_micros, ", ", now_micros + 40'000'000, ", '[]'"), mode),
        kFew);
    EXPECT_LT(
        rows_read("klaxon_audit_enqueue_callbacks", absl::StrCat("'", another_change, "'"), mode),
        kFew);
  }
}

}  // namespace
}  // namespace klaxon::audit::postgres_callback_outbox_test
