#pragma once
// Integration-test helper: a scratch database of its own for each test, created on the Postgres
// server named by KLAXON_TEST_PG_URL (scripts/test.sh exports it; read it with
// klaxon::testing::RequiredEnv) and dropped afterwards, so tests
// never see each other's rows and can run in parallel.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace klaxon::pg::testing {

class TemporaryDatabase {
 public:
  // Creates klaxon_test_<random hex> on the server `server_url` points at, connecting to its
  // "postgres" database to do so.
  static absl::StatusOr<std::unique_ptr<TemporaryDatabase>> Create(std::string_view server_url);

  TemporaryDatabase(const TemporaryDatabase&) = delete;
  TemporaryDatabase& operator=(const TemporaryDatabase&) = delete;
  // Drops the database, closing connections still open to it.
  ~TemporaryDatabase();

  // Drops the database now, under whatever is connected to it, as a failed-over server would go
  // away; what uses it sees its connections closed and the database gone.
  absl::Status Drop();

  // A libpq connection string for the new database.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  TemporaryDatabase(std::string admin_url, std::string name, std::string url);

  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace klaxon::pg::testing
