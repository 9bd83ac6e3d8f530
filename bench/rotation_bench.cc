// bench-rotation: how fast `klaxon-audit-admin rotate` rewraps data keys. Creates a scratch
// database on the Postgres server of --pg-url, migrates it to audit's schema, seeds --rows
// data_keys rows wrapped under key version 1 (COPY; not timed), then times RotateDataKeys through
// PostgresDataKeys to version 2, checks that no key is left under version 1 and that a sample
// opens with a keyring holding version 2 only, and drops the database. Prints one JSON line on
// stdout and a summary on stderr; exits 1 when setup or the rotation fails, 3 when the rotation
// took longer than --target-seconds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/crypto/envelope.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/pg/testing/temporary_database.h"
#include "common/timing/clock.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"
#include "services/audit/admin/key_rotation.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_data_keys.h"

namespace klaxon::bench {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitTooSlow = 3;
constexpr int kSampleSize = 1000;

struct Flags {
  std::string pg_url;
  int64_t rows = 1'000'000;
  // klaxon-audit-admin rotate's defaults.
  size_t batch_size = audit::RotationOptions{}.batch_size;
  size_t threads = audit::RotationOptions{}.threads;
  double target_seconds = 60;
};

// Owners in the order UUIDv7 alert ids are created, as audit's inserts would leave them.
std::string Owner(int64_t i) { return absl::StrFormat("alerts/0190f1c4-0000-7000-8000-%012d", i); }

int Fail(const std::string& step, const absl::Status& status) {
  std::fprintf(stderr, "bench-rotation: %s: %s\n", step.c_str(), status.ToString().c_str());
  return kExitFailed;
}

// COPYs `rows` keys wrapped under `keys`' current version into data_keys.
absl::Status Seed(const std::string& url, crypto::KeyWrapper& keys, int64_t rows) {
  crypto::Envelope envelope(keys);
  try {
    pqxx::connection connection(url);
    pqxx::work txn(connection);
    pqxx::stream_to copy(
        txn, "data_keys",
        std::vector<std::string>{"owner", "kek_version", "wrapped_key", "created_at"});
    for (int64_t i = 0; i < rows; ++i) {
      const std::string owner = Owner(i);
      absl::StatusOr<crypto::NewDataKey> key = envelope.NewKey(owner);
      if (!key.ok()) return key.status();
      copy << std::make_tuple(owner, static_cast<int64_t>(key->wrapped.kek_version),
                              "\\x" + absl::BytesToHexString(key->wrapped.sealed),
                              std::string("2026-01-01 00:00:00+00"));
    }
    copy.complete();
    txn.exec0("ANALYZE data_keys");
    txn.commit();
  } catch (const std::exception& e) {
    return pg::StatusFromException(e);
  }
  return absl::OkStatus();
}

// Opens a sample of the rotated keys with a keyring that holds only the new version.
absl::Status CheckSample(audit::DataKeyStore& store, crypto::KeyWrapper& new_only) {
  // Every key is under version 2 now, so "not under version 1" reads them.
  absl::StatusOr<std::vector<audit::StoredDataKey>> sample = store.KeysNotUnder(1, "", kSampleSize);
  if (!sample.ok()) return sample.status();
  crypto::Envelope envelope(new_only);
  for (const audit::StoredDataKey& key : *sample) {
    if (absl::Status opened = envelope.OpenKey(key.wrapped, key.owner).status(); !opened.ok()) {
      return opened;
    }
  }
  return absl::OkStatus();
}

int Run(const Flags& flags) {
  auto scratch = pg::testing::TemporaryDatabase::Create(flags.pg_url);
  if (!scratch.ok()) return Fail("create the scratch database", scratch.status());
  // One connection reads pages while each thread writes one back.
  auto db = pg::Database::Connect((*scratch)->url(), {.max_connections = flags.threads + 1});
  if (!db.ok()) return Fail("connect", db.status());
  if (auto applied = pg::ApplyMigrations(**db, audit::AuditMigrations()); !applied.ok()) {
    return Fail("migrate", applied.status());
  }
  auto old_keys = crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1}));
  auto both_keys = crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(2, {1, 2}));
  auto new_keys = crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(2, {2}));
  if (!old_keys.ok() || !both_keys.ok() || !new_keys.ok()) {
    return Fail("parse the test keyrings", old_keys.status());
  }

  const absl::Time seed_start = absl::Now();
  if (absl::Status seeded = Seed((*scratch)->url(), *old_keys, flags.rows); !seeded.ok()) {
    return Fail("seed", seeded);
  }
  const double seed_seconds = absl::ToDoubleSeconds(absl::Now() - seed_start);
  std::fprintf(stderr, "bench-rotation: seeded %lld keys under version 1 in %.1f s (not timed)\n",
               static_cast<long long>(flags.rows), seed_seconds);

  audit::PostgresDataKeys store(**db);
  timing::RealClock clock;
  absl::StatusOr<audit::RotationReport> report = audit::RotateDataKeys(
      store, *both_keys, clock, {.batch_size = flags.batch_size, .threads = flags.threads});
  if (!report.ok()) return Fail("rotate", report.status());
  if (absl::Status checked = CheckSample(store, *new_keys); !checked.ok()) {
    return Fail("open rotated keys with version 2 only", checked);
  }

  const double seconds = absl::ToDoubleSeconds(report->elapsed);
  const double rate = static_cast<double>(report->rewrapped) / seconds;
  nlohmann::json line = audit::ToJson(*report);
  line["rows"] = flags.rows;
  line["batch_size"] = flags.batch_size;
  line["threads"] = flags.threads;
  line["rows_per_second"] = rate;
  line["seed_seconds"] = seed_seconds;
  std::cout << line.dump() << std::endl;
  std::fprintf(stderr,
               "bench-rotation: rewrapped %lld keys in %.2f s (%.0f keys/s), batch %zu, %zu "
               "thread(s), %d pass(es), %zu keys left under other versions\n",
               static_cast<long long>(report->rewrapped), seconds, rate, flags.batch_size,
               flags.threads, report->passes, report->remaining.size());
  if (seconds > flags.target_seconds) {
    std::fprintf(stderr, "FAIL: %.2f s is over the target of %.0f s\n", seconds,
                 flags.target_seconds);
    return kExitTooSlow;
  }
  return 0;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) {
  klaxon::bench::Flags flags;
  if (const char* url = std::getenv("KLAXON_PG_URL"); url != nullptr) flags.pg_url = url;
  CLI::App app{"Times the rotation of data keys to a new key version"};
  app.add_option("--pg-url", flags.pg_url,
                 "Postgres server to create the scratch database on (env KLAXON_PG_URL)");
  app.add_option("--rows", flags.rows, "data_keys rows to seed")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", flags.batch_size, "keys per page and transaction")
      ->check(CLI::Range(1, 100'000));
  app.add_option("--threads", flags.threads, "threads that rewrap each page")
      ->check(CLI::Range(1, 64));
  app.add_option("--target-seconds", flags.target_seconds, "longest acceptable rotation")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (flags.pg_url.empty()) {
    std::fprintf(stderr, "bench-rotation: give --pg-url or set KLAXON_PG_URL\n");
    return 2;
  }
  return klaxon::bench::Run(flags);
}
