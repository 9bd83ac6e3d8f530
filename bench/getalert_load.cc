// bench-getalert: seeds a caller's alerts straight into audit's Postgres (alerts with one
// attempt each, their recipient and text sealed under audit's keyring, as the projection stores
// them), then drives klaxon.alerts.v1.AlertQuery/GetAlert open loop against a running audit,
// reading the seeded alerts round robin (see getalert_driver.h). Prints one JSON line on stdout and
// a summary on stderr; exits 3 when p99 misses --p99-target. Alerts already seeded for the caller
// are reused, so runs can repeat.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "bench/getalert_driver.h"
#include "bench/load_flags.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "common/crypto/local_keyring.h"
#include "common/pg/database.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/audit/personal_data.h"

namespace klaxon::bench {
namespace {

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitMissedTarget = 3;

struct Flags : LoadFlags {
  Flags() : LoadFlags{.target = "127.0.0.1:50052", .rate = 2000, .concurrency = 256} {}
  std::string caller = "bench";
  std::string pg_url;
  int64_t alerts = 10'000;
  double p99_target_ms = 5;
  std::string keyring;
};

// The recipient and text of seeded alert `n`: what GetAlert decrypts.
std::string SeededRecipient(int64_t n) { return absl::StrFormat("+1415555%04d", n % 10'000); }
std::string SeededText(int64_t n) {
  return absl::StrFormat("bench alert %d: disk full on db-%d", n, n % 97);
}

// Seals the recipient and text of the new alerts `ids` as audit does (the columns of their
// alerts rows and a data_keys row each), so every GetAlert opens them.
absl::Status SealSeeded(pqxx::work& txn, audit::PersonalData& personal_data,
                        const std::vector<std::string>& ids) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t n = 0; n < ids.size(); ++n) {
    absl::StatusOr<audit::SealedRecord> sealed =
        personal_data.Seal(audit::kAlertsTable, ids[n],
                           {{audit::kRecipientColumn, SeededRecipient(static_cast<int64_t>(n))},
                            {audit::kTextColumn, SeededText(static_cast<int64_t>(n))}});
    if (!sealed.ok()) return sealed.status();
    rows.push_back(
        {{"alert_id", ids[n]},
         {"owner", sealed->owner},
         {"kek_version", sealed->wrapped_key.kek_version},
         {"wrapped_key", absl::BytesToHexString(sealed->wrapped_key.sealed)},
         {"recipient", absl::BytesToHexString(sealed->ciphertext[audit::kRecipientColumn])},
         {"text", absl::BytesToHexString(sealed->ciphertext[audit::kTextColumn])},
         {"last4", SeededRecipient(static_cast<int64_t>(n)).substr(8)}});
  }
  const std::string json = rows.dump();
  txn.exec_params(
      "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
      "SELECT r.owner, r.kek_version, decode(r.wrapped_key, 'hex'), now() "
      "FROM jsonb_to_recordset($1::jsonb) AS r(owner text, kek_version integer, wrapped_key text)",
      json);
  txn.exec_params(
      "UPDATE alerts SET recipient_ciphertext = decode(r.recipient, 'hex'), "
      "  text_ciphertext = decode(r.text, 'hex'), recipient_last4 = r.last4 "
      "FROM jsonb_to_recordset($1::jsonb) AS r(alert_id uuid, recipient text, text text, "
      "  last4 text) "
      "WHERE alerts.alert_id = r.alert_id",
      json);
  return absl::OkStatus();
}

// The ids of `count` of the caller's alerts, inserting as many as are missing: delivered SMS
// alerts with one attempt, created over the last `count` seconds, their recipient and text
// sealed under `personal_data`'s keyring (audit's).
absl::StatusOr<std::vector<std::string>> Seed(pg::Database& db, audit::PersonalData& personal_data,
                                              const std::string& caller, int64_t count) {
  std::vector<std::string> ids;
  absl::Status status = db.Transact([&](pqxx::work& txn) -> absl::Status {
    const int64_t existing =
        txn.exec_params("SELECT count(*) FROM alerts WHERE caller = $1", caller)[0][0]
            .as<int64_t>();
    if (existing < count) {
      std::vector<std::string> seeded;
      for (const pqxx::row row : txn.exec_params(
               "WITH seeded AS ("
               "  INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
               "    recipient_country_code, recipient_last4, twilio_sid, created_at, updated_at, "
               "    status_at) "
               "  SELECT gen_random_uuid(), $1, 1, 3, 3, true, '1', '', 'SM' || md5(i::text), "
               "    now() - i * interval '1 second', now(), now() "
               "  FROM generate_series(1, $2::bigint) AS i RETURNING alert_id), "
               "attempts AS ("
               "  INSERT INTO attempts (alert_id, attempt, status, status_rank, twilio_sid, "
               "    occurred_at, channel) "
               "  SELECT alert_id, 1, 3, 3, 'SM' || md5(alert_id::text), now(), 1 FROM seeded) "
               "SELECT alert_id::text FROM seeded",
               caller, count - existing)) {
        seeded.push_back(row[0].as<std::string>());
      }
      if (absl::Status sealed = SealSeeded(txn, personal_data, seeded); !sealed.ok()) {
        return sealed;
      }
    }
    for (const pqxx::row row : txn.exec_params(
             "SELECT alert_id::text FROM alerts WHERE caller = $1 ORDER BY alert_id LIMIT $2",
             caller, count)) {
      ids.push_back(row[0].as<std::string>());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return ids;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Seeds alerts, then drives AlertQuery/GetAlert open loop.", "bench-getalert"};
  AddLoadFlags(app, flags,
               {.target = "audit gRPC address",
                .target_env = "KLAXON_AUDIT_ADDR",
                .api_key = "API key of --caller [env KLAXON_API_KEY]"});
  app.add_option("--caller", flags.caller, "the caller the API key belongs to (seeded alerts')")
      ->capture_default_str();
  app.add_option("--pg-url", flags.pg_url, "audit's Postgres [env KLAXON_PG_URL]")
      ->envname("KLAXON_PG_URL")
      ->required();
  app.add_option("--alerts", flags.alerts, "alerts to seed and read")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--p99-target", flags.p99_target_ms, "p99 latency to meet, milliseconds")
      ->capture_default_str();
  app.add_option("--keyring", flags.keyring,
                 "audit's keyring, to seal the seeded alerts' recipient and text "
                 "[env KLAXON_KEYRING]")
      ->envname("KLAXON_KEYRING")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }

  const std::optional<OpenLoopSchedule> schedule = ScheduleOf("bench-getalert", flags);
  if (!schedule.has_value()) return kExitUsage;
  absl::StatusOr<std::unique_ptr<pg::Database>> db = pg::Database::Connect(flags.pg_url);
  if (!db.ok()) {
    std::cerr << "bench-getalert: " << db.status().message() << "\n";
    return kExitSetupFailed;
  }
  absl::StatusOr<crypto::LocalKeyring> keyring = crypto::LocalKeyring::Parse(flags.keyring);
  if (!keyring.ok()) {
    std::cerr << "bench-getalert: --keyring: " << keyring.status().message() << "\n";
    return kExitUsage;
  }
  audit::PersonalData personal_data(*keyring);
  absl::StatusOr<std::vector<std::string>> ids =
      Seed(**db, personal_data, flags.caller, flags.alerts);
  if (!ids.ok() || ids->empty()) {
    std::cerr << "bench-getalert: seeding failed: "
              << (ids.ok() ? "no alerts" : std::string(ids.status().message())) << "\n";
    return kExitSetupFailed;
  }

  const std::shared_ptr<grpc::Channel> channel = ConnectToTarget("bench-getalert", flags);
  if (channel == nullptr) return kExitSetupFailed;
  std::unique_ptr<alerts::v1::AlertQuery::Stub> stub = alerts::v1::AlertQuery::NewStub(channel);
  GetAlertLoad load(*stub->async(),
                    {.target = flags.target,
                     .api_key = flags.api_key,
                     .rate = flags.rate,
                     .duration = FromSeconds(flags.duration_seconds),
                     .concurrency = flags.concurrency,
                     .alert_ids = *std::move(ids),
                     .rpc_timeout = FromSeconds(flags.rpc_timeout_seconds)},
                    *schedule);
  const LoadReport report = load.Run();
  std::cout << ToJsonLine(report) << std::endl;
  std::cerr << ToHumanSummary(report);
  if (report.latency.p99 > FromSeconds(flags.p99_target_ms / 1000)) {
    std::cerr << "bench-getalert: p99 above the " << flags.p99_target_ms << " ms target\n";
    return kExitMissedTarget;
  }
  return EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
