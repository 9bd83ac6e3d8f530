#include "common/pg/database.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/pg/conninfo.h"

namespace klaxon::pg {
namespace {

bool IsRetryableSqlState(const std::string& sqlstate) {
  // 08: connection exception, 40: transaction rollback (serialization failure, deadlock),
  // 53: insufficient resources, 57: operator intervention (admin shutdown, cannot connect now).
  return absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "40") ||
         absl::StartsWith(sqlstate, "53") || absl::StartsWith(sqlstate, "57");
}

}  // namespace

absl::Status StatusFromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    // libpq's message names the server ("connection to server at "db", port 5432 failed: ...");
    // a refused TLS link or login also says which setting to check. Still kUnavailable: a pooled
    // connection re-dialled mid-run may meet a server whose certificate is being rotated.
    const std::string what(absl::StripTrailingAsciiWhitespace(e.what()));
    if (absl::StrContains(what, "SSL") || absl::StrContains(what, "certificate") ||
        absl::StrContains(what, "no encryption")) {
      return absl::UnavailableError(
          absl::StrCat("postgres: the TLS link was refused: ", what,
                       " (check KLAXON_PG_SSLMODE and KLAXON_PG_SSLROOTCERT_FILE)"));
    }
    if (absl::StrContains(what, "authentication failed")) {
      return absl::UnavailableError(absl::StrCat(
          "postgres: login refused: ", what, " (check the user and password of KLAXON_PG_URL)"));
    }
    return absl::UnavailableError(absl::StrCat("Postgres is unreachable: ", what));
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnavailableError(
        "the connection to Postgres broke during commit; the transaction may or may not have "
        "been applied");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    const std::string& state = sql->sqlstate();
    // what() holds the server's message, which names the failure; query() would hold the SQL
    // text but never parameter values, and is left out to keep lines short.
    const std::string message = absl::StrCat("Postgres error ", state, ": ", sql->what());
    if (IsRetryableSqlState(state)) return absl::UnavailableError(message);
    if (absl::StartsWith(state, "23")) return absl::FailedPreconditionError(message);
    if (absl::StartsWith(state, "22")) return absl::InvalidArgumentError(message);
    return absl::InternalError(message);
  }
  return absl::InternalError(absl::StrCat("unexpected error talking to Postgres: ", e.what()));
}

absl::StatusOr<std::unique_ptr<Database>> Database::Connect(std::string_view url,
                                                            DatabaseOptions options) {
  if (options.max_connections == 0) {
    return absl::InvalidArgumentError("DatabaseOptions.max_connections must be at least 1");
  }
  absl::StatusOr<ConnSettings> settings = ParseConninfo(url);
  if (!settings.ok()) return settings.status();
  if (!settings->contains("connect_timeout")) {
    (*settings)["connect_timeout"] =
        absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(options.connect_timeout)));
  }
  std::unique_ptr<Database> db(new Database(FormatConninfo(*settings), options));
  absl::StatusOr<std::unique_ptr<pqxx::connection>> first = db->Acquire();
  if (!first.ok()) return first.status();
  db->Release(*std::move(first));
  return db;
}

Database::Database(std::string conninfo, DatabaseOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> Database::Acquire() {
  {
    std::unique_lock lock(mutex_);
    const auto available = [&] { return !idle_.empty() || open_ < options_.max_connections; };
    if (options_.acquire_timeout == absl::InfiniteDuration()) {
      returned_.wait(lock, available);
    } else if (!returned_.wait_for(lock, absl::ToChronoMilliseconds(options_.acquire_timeout),
                                   available)) {
      return absl::UnavailableError(absl::StrCat("all ", options_.max_connections,
                                                 " connections to Postgres stayed busy for ",
                                                 absl::FormatDuration(options_.acquire_timeout)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;
  }
  // Connecting takes a network round trip, so it happens outside the lock; the slot is already
  // counted and is given back if the connection fails.
  try {
    auto connection = std::make_unique<pqxx::connection>(conninfo_);
    // Postgres compiles a statement whose estimated cost passes jit_above_cost; Klaxon's
    // statements are short, and compiling one (about 12 ms for audit's batch read) costs more
    // than it could ever save.
    pqxx::nontransaction(*connection).exec0("SET jit = off");
    if (options_.statement_timeout > absl::ZeroDuration()) {
      pqxx::nontransaction(*connection)
          .exec0(absl::StrCat(
              "SET statement_timeout = ",
              std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.statement_timeout))));
    }
    return connection;
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    returned_.notify_one();
    return StatusFromException(e);
  }
}

void Database::Release(std::unique_ptr<pqxx::connection> connection) {
  {
    std::lock_guard lock(mutex_);
    if (connection != nullptr && connection->is_open()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
    }
  }
  returned_.notify_one();
}

absl::Status Database::WithConnection(absl::FunctionRef<absl::Status(pqxx::connection&)> body) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = Acquire();
  if (!connection.ok()) return connection.status();
  absl::Status status;
  try {
    status = body(**connection);
  } catch (const pqxx::broken_connection& e) {
    status = StatusFromException(e);
    connection->reset();  // the pool opens a fresh one on next use
  } catch (const std::exception& e) {
    status = StatusFromException(e);
  }
  Release(*std::move(connection));
  return status;
}

absl::Status Database::Transact(absl::FunctionRef<absl::Status(pqxx::work&)> body) {
  return WithConnection([&](pqxx::connection& connection) {
    pqxx::work txn(connection);
    absl::Status status = body(txn);
    if (status.ok()) txn.commit();
    return status;
  });
}

absl::Status Database::Autocommit(absl::FunctionRef<absl::Status(pqxx::nontransaction&)> body) {
  return WithConnection([&](pqxx::connection& connection) {
    pqxx::nontransaction statements(connection);
    return body(statements);
  });
}

}  // namespace klaxon::pg
