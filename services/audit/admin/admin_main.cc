// klaxon-audit-admin: audit's operational commands, for the Kubernetes Job and CronJob and the dev
// scripts (docs/adr/0008-audit-records.md).
//   klaxon-audit-admin migrate                applies pending schema migrations
//   klaxon-audit-admin rollback --to N        undoes the migrations above N, newest first
//   klaxon-audit-admin retention [--now RFC3339] [--dry-run]
//                                             expires records by class and reports what went
//   klaxon-audit-admin rotate [--batch-size N] [--threads N]
//                                             rewraps every data key under the keyring's current
//                                             key version
// Configuration comes from the environment: KLAXON_PG_URL (or KLAXON_PG_URL_FILE) with
// KLAXON_PG_SSLMODE and KLAXON_PG_SSLROOTCERT_FILE, KLAXON_LOG_LEVEL, for retention
// KLAXON_AUDIT_OPERATIONAL_RETENTION and KLAXON_AUDIT_COMPLIANCE_RETENTION, for rotate
// KLAXON_KEYRING (or KLAXON_KEYRING_FILE). Exit codes: 0 done, 1 failed, 2 bad configuration or
// --now (a malformed command line exits with CLI11's code and its usage message).
//
// A command is a function of the database and the logger that calls one library function;
// RunCommand does the wiring every command shares.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/crypto/local_keyring.h"
#include "common/log/log.h"
#include "common/pg/conninfo.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/runtime/process_hardening.h"
#include "common/timing/clock.h"
#include "services/audit/admin/key_rotation.h"
#include "services/audit/admin/retention.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/postgres_data_keys.h"
#include "services/audit/postgres/postgres_retention.h"

namespace klaxon::audit {
namespace {

constexpr char kService[] = "audit-admin";

// These commands never log a phone number, so the redaction key only has to be a valid one; a
// random key also makes any token they could produce unlinkable.
std::string RandomKey() {
  absl::BitGen random;
  std::string key(32, '\0');
  for (char& c : key) c = static_cast<char>(absl::Uniform<unsigned char>(random));
  return key;
}

struct Services {
  pg::Database& db;
  const log::Logger& logger;
};

// Reads the settings every command shares (after the command read its own from `reader`), stops
// with exit code 2 when any is wrong, connects to Postgres and runs `command`.
int RunCommand(config::Reader& reader, absl::FunctionRef<int(Services)> command,
               size_t connections = 1) {
  const std::string pg_url = pg::ReadConnectionString(reader);
  const std::string level_name =
      reader.Enum("KLAXON_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  config::ExitOnError(reader.Finish(), kService);

  auto redactor = log::PhoneRedactor::Create(RandomKey());
  config::ExitOnError(redactor.status(), kService);
  log::StdoutSink sink;
  const log::Logger logger(
      {.service = kService, .min_level = log::ParseLevel(level_name).value_or(log::Level::kInfo)},
      *std::move(redactor), sink);

  auto db = pg::Database::Connect(pg_url, {.max_connections = connections});
  if (!db.ok()) {
    logger.Error("database_unavailable", {{"error", std::string(db.status().message())}});
    return 1;
  }
  return command({.db = **db, .logger = logger});
}

int Migrate(Services services) {
  absl::StatusOr<std::vector<int64_t>> applied =
      pg::ApplyMigrations(services.db, AuditMigrations());
  if (!applied.ok()) {
    services.logger.Error("migration_failed", {{"error", applied.status().ToString()}});
    return 1;
  }
  services.logger.Info("schema_migrated", {{"applied_versions", *applied}});
  return 0;
}

int Rollback(Services services, int64_t to_version) {
  absl::StatusOr<std::vector<int64_t>> undone =
      pg::RollbackMigrations(services.db, AuditMigrations(), to_version);
  if (!undone.ok()) {
    services.logger.Error("rollback_failed", {{"error", undone.status().ToString()}});
    return 1;
  }
  services.logger.Info("schema_rolled_back",
                       {{"to_version", to_version}, {"undone_versions", *undone}});
  return 0;
}

std::string Utc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", time, absl::UTCTimeZone());
}

std::string Names(const std::vector<std::string>& names) {
  return names.empty() ? "none" : absl::StrJoin(names, " ");
}

int Retention(Services services, const RetentionPolicy& policy, absl::Time now, bool dry_run) {
  PostgresRetentionStore store(services.db);
  const RetentionReport report = RunRetention(store, policy, now, {.dry_run = dry_run});
  services.logger.Log(report.ok() ? log::Level::kInfo : log::Level::kError, "retention_done",
                      {{"report", report.ToJson()}});
  // The same, for the operator reading the terminal or the CronJob's log.
  std::printf(
      "%s as of %s\n"
      "  operational cutoff %s, compliance cutoff %s\n"
      "  partitions dropped: %s\n"
      "  events removed: %lld\n"
      "  partitions busy (next run): %s\n"
      "  partitions created: %s\n"
      "  dead letters deleted: %lld\n"
      "  caller callbacks deleted: %lld\n"
      "  data keys shredded: %lld\n"
      "  alerts deleted: %lld\n",
      dry_run ? "retention dry run (nothing changed)" : "retention", Utc(now).c_str(),
      Utc(report.cutoffs.operational).c_str(), Utc(report.cutoffs.compliance).c_str(),
      Names(report.partitions_dropped).c_str(), static_cast<long long>(report.events_removed),
      Names(report.partitions_busy).c_str(), Names(report.partitions_created).c_str(),
      static_cast<long long>(report.dead_letters_deleted),
      static_cast<long long>(report.caller_callbacks_deleted),
      static_cast<long long>(report.data_keys_shredded),
      static_cast<long long>(report.alerts_deleted));
  for (const std::string& error : report.errors) std::printf("  failed: %s\n", error.c_str());
  return report.ok() ? 0 : 1;
}

RetentionPolicy ReadRetentionPolicy(config::Reader& reader) {
  constexpr absl::Duration kDay = absl::Hours(24);
  const RetentionPolicy defaults;
  RetentionPolicy policy{
      .operational = reader.Duration("KLAXON_AUDIT_OPERATIONAL_RETENTION", defaults.operational,
                                     kDay, 100 * 365 * kDay),
      .compliance = reader.Duration("KLAXON_AUDIT_COMPLIANCE_RETENTION", defaults.compliance, kDay,
                                    100 * 365 * kDay)};
  if (policy.compliance < policy.operational) {
    reader.AddError("KLAXON_AUDIT_COMPLIANCE_RETENTION",
                    "must not be shorter than KLAXON_AUDIT_OPERATIONAL_RETENTION");
  }
  return policy;
}

// Fails unless no data key is left under another version (docs/adr/0008-audit-records.md).
int Rotate(Services services, crypto::LocalKeyring& keyring, const RotationOptions& options) {
  PostgresDataKeys store(services.db);
  timing::RealClock clock;
  services.logger.Info("rotation_started", {{"current_version", keyring.CurrentVersion()},
                                            {"batch_size", options.batch_size},
                                            {"threads", options.threads}});
  absl::StatusOr<RotationReport> report = RotateDataKeys(store, keyring, clock, options);
  if (!report.ok()) {
    services.logger.Error("rotation_failed",
                          {{"code", absl::StatusCodeToString(report.status().code())},
                           {"error", std::string(report.status().message())}});
    return 1;
  }
  services.logger.Info("keys_rotated", {{"report", ToJson(*report)}});
  return 0;
}

int Main(int argc, char** argv) {
  runtime::HardenProcessOrExit("klaxon-audit-admin");
  CLI::App app{"Audit's operational commands"};
  app.require_subcommand(1);

  CLI::App* migrate = app.add_subcommand("migrate", "Apply pending schema migrations");

  CLI::App* rollback = app.add_subcommand(
      "rollback", "Undo the migrations above a version, newest first, in one transaction");
  int64_t to_version = 0;
  rollback->add_option("--to", to_version, "Version to go back to (0: undo every migration)")
      ->required()
      ->check(CLI::NonNegativeNumber);

  CLI::App* retention = app.add_subcommand(
      "retention", "Drop, delete and crypto-shred expired records; report what went");
  std::string now_text;
  bool dry_run = false;
  retention->add_option("--now", now_text, "Run as of this RFC 3339 time instead of the clock");
  retention->add_flag("--dry-run", dry_run, "Count what would go; change nothing");

  CLI::App* rotate = app.add_subcommand(
      "rotate", "Rewrap every data key under the keyring's current key version (KLAXON_KEYRING)");
  RotationOptions rotation;
  rotate->add_option("--batch-size", rotation.batch_size, "Keys per page and transaction")
      ->check(CLI::Range(1, 100'000));
  rotate->add_option("--threads", rotation.threads, "Pages rewrapped and written at once")
      ->check(CLI::Range(1, 16));

  CLI11_PARSE(app, argc, argv);
  config::Reader reader = config::Reader::ForProcess();
  if (migrate->parsed()) return RunCommand(reader, Migrate);
  if (rollback->parsed()) {
    return RunCommand(reader, [&](Services services) { return Rollback(services, to_version); });
  }
  if (retention->parsed()) {
    absl::Time now = absl::Now();
    std::string error;
    if (!now_text.empty() && !absl::ParseTime(absl::RFC3339_full, now_text, &now, &error)) {
      std::fprintf(stderr, "klaxon-audit-admin: --now %s is not an RFC 3339 time: %s\n",
                   now_text.c_str(), error.c_str());
      return 2;
    }
    const RetentionPolicy policy = ReadRetentionPolicy(reader);
    return RunCommand(reader,
                      [&](Services services) { return Retention(services, policy, now, dry_run); });
  }
  if (rotate->parsed()) {
    const std::string document = reader.Secret("KLAXON_KEYRING");
    absl::StatusOr<crypto::LocalKeyring> keyring = crypto::LocalKeyring::Parse(document);
    if (!document.empty() && !keyring.ok()) {
      reader.AddError("KLAXON_KEYRING", std::string(keyring.status().message()));
    }
    // One connection reads pages while each thread writes one back.
    return RunCommand(
        reader, [&](Services services) { return Rotate(services, *keyring, rotation); },
        rotation.threads + 1);
  }
  return 2;
}

}  // namespace
}  // namespace klaxon::audit

int main(int argc, char** argv) { return klaxon::audit::Main(argc, argv); }
