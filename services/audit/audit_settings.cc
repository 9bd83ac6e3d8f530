#include "services/audit/audit_settings.h"

#include <functional>
#include <string_view>
#include <utility>

#include "common/pg/conninfo.h"
#include "common/runtime/process_hardening.h"

namespace klaxon::audit {
namespace {

// The secret `name` parsed by `parse`; null when it is missing or malformed, which the reader
// then reports under its name.
template <typename Key>
std::shared_ptr<Key> ReadKey(config::Reader& reader, std::string_view name,
                             const std::function<absl::StatusOr<Key>(const std::string&)>& parse) {
  std::string secret = reader.Secret(name);
  if (secret.empty()) return nullptr;  // the reader recorded why
  absl::StatusOr<Key> parsed = parse(secret);
  runtime::WipeSecret(secret);
  if (!parsed.ok()) {
    reader.AddError(name, std::string(parsed.status().message()));
    return nullptr;
  }
  return std::make_shared<Key>(*std::move(parsed));
}

}  // namespace

absl::StatusOr<AuditSettings> LoadAuditSettings(config::Reader& reader) {
  AuditSettings settings{
      .common = runtime::ReadCommonSettings(reader),
      .grpc = reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50052"),
      .grpc_security = grpcutil::ReadServerSecurity(reader),
      .api_keys = auth::ReadApiKeySettings(reader),
      .pg_url = pg::ReadConnectionString(reader),
      .keyring = ReadKey<crypto::LocalKeyring>(
          reader, "KLAXON_KEYRING",
          [](const std::string& document) { return crypto::LocalKeyring::Parse(document); }),
      .blind_index = ReadKey<crypto::BlindIndex>(
          reader, "KLAXON_BLIND_INDEX_KEY",
          [](const std::string& key) { return crypto::BlindIndex::Create(key); }),
      .batch_size =
          static_cast<int>(reader.Int("KLAXON_AUDIT_BATCH_SIZE", 1000, /*min=*/1, /*max=*/10000)),
      .batch_writers =
          static_cast<int>(reader.Int("KLAXON_AUDIT_BATCH_WRITERS", 2, /*min=*/1, /*max=*/4)),
      .publish_timeout = reader.Duration("KLAXON_PUBLISH_TIMEOUT", absl::Seconds(5),
                                         absl::Milliseconds(100), absl::Seconds(60)),
      .watch_max_per_caller = static_cast<int>(
          reader.Int("KLAXON_WATCH_MAX_PER_CALLER", 32, /*min=*/1, /*max=*/kMaxWatchers)),
      .watch_max_lifetime = reader.Duration("KLAXON_WATCH_MAX_LIFETIME", absl::Hours(1),
                                            absl::Seconds(1), absl::Hours(24))};
  if (absl::Status finished = reader.Finish(); !finished.ok()) return finished;
  return settings;
}

}  // namespace klaxon::audit
