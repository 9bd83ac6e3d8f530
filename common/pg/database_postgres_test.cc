// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/pg/database.h"
#include "common/pg/testing/temporary_database.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/support.h"

namespace klaxon::pg {
namespace {

class DatabasePostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = klaxon::testing::RequiredEnv("KLAXON_TEST_PG_URL");
    if (server.empty()) return;
    absl::StatusOr<std::unique_ptr<testing::TemporaryDatabase>> scratch =
        testing::TemporaryDatabase::Create(server);
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Connect(scratch_->url(), {.max_connections = 2});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db_->Transact([](pqxx::work& txn) {
                     txn.exec("CREATE TABLE items (id int PRIMARY KEY)");
                     return absl::OkStatus();
                   })
                    .ok());
  }

  int64_t CountItems() {
    int64_t count = -1;
    EXPECT_TRUE(db_->Transact([&](pqxx::work& txn) {
                     count = txn.exec1("SELECT count(*) FROM items")[0].as<int64_t>();
                     return absl::OkStatus();
                   })
                    .ok());
    return count;
  }

  std::unique_ptr<testing::TemporaryDatabase> scratch_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabasePostgresTest, TransactCommitsWhenBodySucceeds) {
  ASSERT_TRUE(db_->Transact([](pqxx::work& txn) {
                   txn.exec("INSERT INTO items VALUES (1)");
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(CountItems(), 1);
}

TEST_F(DatabasePostgresTest, EveryConnectionRunsWithoutJit) {
  // Both pooled connections, in and outside a transaction: the setting is per connection.
  for (int i = 0; i < 2; ++i) {
    std::string jit;
    ASSERT_TRUE(db_->Autocommit([&](pqxx::nontransaction& txn) {
                     jit = txn.exec1("SHOW jit")[0].as<std::string>();
                     return absl::OkStatus();
                   })
                    .ok());
    EXPECT_EQ(jit, "off");
  }
  std::string in_transaction;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& txn) {
                   in_transaction = txn.exec1("SHOW jit")[0].as<std::string>();
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(in_transaction, "off");
}

TEST_F(DatabasePostgresTest, TransactRollsBackAndReturnsBodyError) {
  absl::Status status = db_->Transact([](pqxx::work& txn) {
    txn.exec("INSERT INTO items VALUES (1)");
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CountItems(), 0);
}

TEST_F(DatabasePostgresTest, UniqueViolationIsFailedPrecondition) {
  absl::Status status = db_->Transact([](pqxx::work& txn) {
    txn.exec("INSERT INTO items VALUES (1), (1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(CountItems(), 0);
}

TEST_F(DatabasePostgresTest, BadValueIsInvalidArgument) {
  absl::Status status = db_->Transact([](pqxx::work& txn) {
    txn.exec("SELECT 'not-a-uuid'::uuid");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(DatabasePostgresTest, KilledConnectionIsUnavailableAndThenReplaced) {
  absl::Status killed = db_->Transact([](pqxx::work& txn) {
    txn.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  EXPECT_EQ(killed.code(), absl::StatusCode::kUnavailable) << killed;
  EXPECT_EQ(CountItems(), 0);
}

TEST_F(DatabasePostgresTest, AutocommitKeepsEachStatementOnItsOwn) {
  // In a transaction the failing statement would undo the insert before it.
  absl::Status status = db_->Autocommit([](pqxx::nontransaction& statements) {
    statements.exec("INSERT INTO items VALUES (1)");
    statements.exec("INSERT INTO items VALUES (1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(CountItems(), 1);
}

TEST_F(DatabasePostgresTest, AutocommitRunsNoTransactionBlock) {
  bool in_block = true;
  ASSERT_TRUE(
      db_->Autocommit([&](pqxx::nontransaction& statements) {
           // An implicit single-statement transaction starts with its statement; after a
           // BEGIN the statement would start later than its transaction.
           in_block = statements.exec1("SELECT transaction_timestamp() <> statement_timestamp()")[0]
                          .as<bool>();
           return absl::OkStatus();
         })
          .ok());
  EXPECT_FALSE(in_block);
}

TEST_F(DatabasePostgresTest, KilledConnectionUnderAutocommitIsUnavailableAndThenReplaced) {
  absl::Status killed = db_->Autocommit([](pqxx::nontransaction& statements) {
    statements.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  EXPECT_EQ(killed.code(), absl::StatusCode::kUnavailable) << killed;
  EXPECT_EQ(CountItems(), 0);
}

TEST_F(DatabasePostgresTest, MoreCallersThanConnectionsAllSucceed) {
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = db_->Transact([&](pqxx::work& txn) {
        txn.exec_params("INSERT INTO items VALUES ($1)", static_cast<int>(i));
        txn.exec("SELECT pg_sleep(0.05)");
        return absl::OkStatus();
      });
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(CountItems(), 8);
}

TEST_F(DatabasePostgresTest, AStatementPastTheStatementTimeoutIsCancelledAsUnavailable) {
  absl::StatusOr<std::unique_ptr<Database>> limited = Database::Connect(
      scratch_->url(), {.max_connections = 1, .statement_timeout = absl::Milliseconds(100)});
  ASSERT_TRUE(limited.ok()) << limited.status();
  const absl::Status slow = (*limited)->Autocommit([](pqxx::nontransaction& txn) {
    txn.exec("SELECT pg_sleep(5)");
    return absl::OkStatus();
  });
  EXPECT_EQ(slow.code(), absl::StatusCode::kUnavailable) << slow;
  EXPECT_TRUE((*limited)
                  ->Autocommit([](pqxx::nontransaction& txn) {
                    txn.exec("SELECT pg_sleep(0.01)");
                    return absl::OkStatus();
                  })
                  .ok())
      << "the connection is still usable";
}

TEST_F(DatabasePostgresTest, ACallerWaitsForABusyPoolOnlyAsLongAsItsAcquireTimeout) {
  absl::StatusOr<std::unique_ptr<Database>> single = Database::Connect(
      scratch_->url(), {.max_connections = 1, .acquire_timeout = absl::Milliseconds(100)});
  ASSERT_TRUE(single.ok()) << single.status();
  absl::Notification holding;
  absl::Notification release;
  std::thread holder([&] {
    (void)(*single)->Autocommit([&](pqxx::nontransaction&) {
      holding.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
  });
  holding.WaitForNotification();
  const absl::Status waited =
      (*single)->Autocommit([](pqxx::nontransaction&) { return absl::OkStatus(); });
  release.Notify();
  holder.join();
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(waited.message()), ::testing::HasSubstr("stayed busy for 100ms"));
}

}  // namespace
}  // namespace klaxon::pg
