#pragma once
// A small pool of libpqxx connections behind an absl::Status API. Adapters (the Postgres stores
// of each service) run their SQL through Transact(), or Autocommit() for a single statement; every
// libpqxx or standard exception thrown inside is caught here and becomes a Status whose code says
// whether a retry may help, so no exception ever crosses a port. Every connection runs with
// Postgres's JIT compilation off: it is tuned for long analytical queries and made audit's batch
// statements several times slower.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace klaxon::pg {

struct DatabaseOptions {
  // Connections opened at most; a caller beyond that waits for one to be returned.
  size_t max_connections = 4;
  // Used when the URL sets no connect_timeout, so an unreachable host cannot hang a caller.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Postgres cancels a statement on these connections that runs longer (SQLSTATE 57014, mapped
  // to kUnavailable); zero: none. For pools that serve callers, so no request holds a connection
  // for long.
  absl::Duration statement_timeout = absl::ZeroDuration();
  // How long a caller waits for a connection when all are lent out before kUnavailable.
  absl::Duration acquire_timeout = absl::InfiniteDuration();
};

// Maps an exception thrown by libpqxx (or anything else) to a Status:
//   broken connection, commit in doubt, SQLSTATE classes 08 (connection), 40 (serialization
//   failure, deadlock: the transaction can simply be rerun), 53 (resources), 57 (shutdown)
//                                                                    -> kUnavailable
//   integrity violations (class 23)                                  -> kFailedPrecondition
//   bad input values (class 22)                                      -> kInvalidArgument
//   anything else                                                    -> kInternal
// The message names the failure but never the SQL's parameters.
absl::Status StatusFromException(const std::exception& e);

class Database {
 public:
  // Opens the first connection right away, so a wrong URL or a server that is down is reported
  // at start (kUnavailable for an unreachable server, kInvalidArgument for a malformed URL).
  static absl::StatusOr<std::unique_ptr<Database>> Connect(std::string_view url,
                                                           DatabaseOptions options = {});

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs `body` in one read-committed transaction and commits it if `body` returns OK. A non-OK
  // status from `body` rolls the transaction back and is returned as is; an exception rolls it
  // back and is mapped by StatusFromException. A connection that broke is dropped from the pool
  // and replaced on next use.
  absl::Status Transact(absl::FunctionRef<absl::Status(pqxx::work&)> body);

  // Runs `body` outside any transaction: each statement commits on its own, with no BEGIN or
  // COMMIT round trip. For a single statement, which is atomic by itself (one read that needs no
  // transaction); statements that must see or write together belong in Transact. Errors are
  // mapped and broken connections replaced as in Transact.
  absl::Status Autocommit(absl::FunctionRef<absl::Status(pqxx::nontransaction&)> body);

 private:
  Database(std::string conninfo, DatabaseOptions options);

  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> connection);
  // Runs `body` on a pooled connection, mapping exceptions to a Status.
  absl::Status WithConnection(absl::FunctionRef<absl::Status(pqxx::connection&)> body);

  const std::string conninfo_;
  const DatabaseOptions options_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  size_t open_ = 0;  // idle plus lent out
};

}  // namespace klaxon::pg
