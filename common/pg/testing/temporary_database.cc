#include "common/pg/testing/temporary_database.h"

#include <exception>
#include <iostream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/pg/conninfo.h"
#include "common/pg/database.h"
#include "pqxx/pqxx"

// libpqxx 6.4 does not free the PGresult of a query whose connection breaks underneath it
// (2 KiB per broken connection). The tests that break connections on purpose would otherwise
// fail the sanitizer builds on a leak that is not ours; leaks of our own objects still report,
// since their allocation stacks start in our code.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpqxx-6.4.so\n"; }

namespace klaxon::pg::testing {

absl::StatusOr<std::unique_ptr<TemporaryDatabase>> TemporaryDatabase::Create(
    std::string_view server_url) {
  absl::StatusOr<std::string> admin_url = WithDatabaseName(server_url, "postgres");
  if (!admin_url.ok()) return admin_url.status();
  absl::BitGen random;
  const std::string name = absl::StrFormat("klaxon_test_%016x", absl::Uniform<uint64_t>(random));
  absl::StatusOr<std::string> url = WithDatabaseName(server_url, name);
  if (!url.ok()) return url.status();
  try {
    pqxx::connection admin(*admin_url);
    pqxx::nontransaction txn(admin);
    txn.exec(absl::StrCat("CREATE DATABASE ", txn.quote_name(name)));
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
  return std::unique_ptr<TemporaryDatabase>(
      new TemporaryDatabase(*std::move(admin_url), name, *std::move(url)));
}

TemporaryDatabase::TemporaryDatabase(std::string admin_url, std::string name, std::string url)
    : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}

TemporaryDatabase::~TemporaryDatabase() {
  if (absl::Status dropped = Drop(); !dropped.ok()) {
    // A destructor cannot fail the test; a leftover database is only clutter, so say which.
    std::cerr << "could not drop test database " << name_ << ": " << dropped.message() << "\n";
  }
}

absl::Status TemporaryDatabase::Drop() {
  try {
    pqxx::connection admin(admin_url_);
    pqxx::nontransaction txn(admin);
    txn.exec(absl::StrCat("DROP DATABASE IF EXISTS ", txn.quote_name(name_), " WITH (FORCE)"));
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
  return absl::OkStatus();
}

}  // namespace klaxon::pg::testing
