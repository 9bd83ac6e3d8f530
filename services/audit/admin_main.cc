// klaxon-audit-admin: audit's operational commands, run by an operator or a Kubernetes Job.
//   rotate   rewraps every data key under the keyring's current key version (ADR 0008)
// Configuration comes from the environment like audit's: KLAXON_PG_URL and KLAXON_KEYRING (or
// their _FILE forms), KLAXON_LOG_LEVEL. Each command logs JSON lines on stdout, the last one its
// report. Exit codes: 0 done, 1 failed, 2 bad configuration or usage.

#include <cstddef>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "common/config/config.h"
#include "common/crypto/local_keyring.h"
#include "common/log/log.h"
#include "common/pg/conninfo.h"
#include "common/pg/database.h"
#include "common/timing/clock.h"
#include "services/audit/key_rotation.h"
#include "services/audit/postgres_data_keys.h"

namespace klaxon::audit {
namespace {

constexpr char kService[] = "audit-admin";
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// These commands never log a phone number, so the redaction key only has to be a valid one; a
// random key also makes any token they could produce unlinkable.
std::string RandomKey() {
  absl::BitGen random;
  std::string key(32, '\0');
  for (char& c : key) c = static_cast<char>(absl::Uniform<unsigned char>(random));
  return key;
}

log::Logger MakeLogger(const std::string& level_name, log::Sink& sink) {
  auto redactor = log::PhoneRedactor::Create(RandomKey());
  config::ExitOnError(redactor.status(), kService);
  return log::Logger(
      {.service = kService, .min_level = log::ParseLevel(level_name).value_or(log::Level::kInfo)},
      *std::move(redactor), sink);
}

// rotate: pages through data_keys and rewraps every key not under the keyring's current version;
// fails unless none is left under another version (docs/adr/0008-audit-records.md).
int Rotate(const RotationOptions& options) {
  config::Reader reader(config::FromProcessEnvironment());
  const std::string pg_url = reader.Secret("KLAXON_PG_URL");
  const std::string keyring_document = reader.Secret("KLAXON_KEYRING");
  const std::string level =
      reader.Enum("KLAXON_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  if (!pg_url.empty()) {
    if (absl::Status parsed = pg::ParseConninfo(pg_url).status(); !parsed.ok()) {
      reader.AddError("KLAXON_PG_URL", std::string(parsed.message()));
    }
  }
  absl::StatusOr<crypto::LocalKeyring> keyring = crypto::LocalKeyring::Parse(keyring_document);
  if (!keyring_document.empty() && !keyring.ok()) {
    reader.AddError("KLAXON_KEYRING", std::string(keyring.status().message()));
  }
  config::ExitOnError(reader.Finish(), kService);
  log::StdoutSink sink;
  const log::Logger logger = MakeLogger(level, sink);

  // One connection reads pages while each thread writes one back.
  auto db = pg::Database::Connect(pg_url, {.max_connections = options.threads + 1});
  if (!db.ok()) {
    logger.Error("rotation_failed", {{"error", std::string(db.status().message())}});
    return kExitFailed;
  }
  PostgresDataKeys store(**db);
  timing::RealClock clock;
  logger.Info("rotation_started", {{"current_version", keyring->CurrentVersion()},
                                   {"batch_size", options.batch_size},
                                   {"threads", options.threads}});
  absl::StatusOr<RotationReport> report = RotateDataKeys(store, *keyring, clock, options);
  if (!report.ok()) {
    logger.Error("rotation_failed", {{"code", absl::StatusCodeToString(report.status().code())},
                                     {"error", std::string(report.status().message())}});
    return kExitFailed;
  }
  logger.Info("keys_rotated", {{"report", ToJson(*report)}});
  return 0;
}

}  // namespace
}  // namespace klaxon::audit

int main(int argc, char** argv) {
  CLI::App app{"Audit's operational commands"};
  app.require_subcommand(1);

  klaxon::audit::RotationOptions rotation;
  CLI::App* rotate = app.add_subcommand(
      "rotate", "Rewrap every data key under the keyring's current key version (KLAXON_KEYRING)");
  rotate->add_option("--batch-size", rotation.batch_size, "Keys per page and transaction")
      ->check(CLI::Range(1, 100'000));
  rotate->add_option("--threads", rotation.threads, "Pages rewrapped and written at once")
      ->check(CLI::Range(1, 16));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : klaxon::audit::kExitUsage;
  }
  if (rotate->parsed()) return klaxon::audit::Rotate(rotation);
  return klaxon::audit::kExitUsage;
}
